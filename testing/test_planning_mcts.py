"""MCTS over the Sokoban simulator (paper App. D.3): it solves small rooms the exact solver proves
solvable, its plans replay in a fresh environment, its transposition table merges positions."""
import numpy as np
import pytest

from envs.sokoban import generator
from envs.sokoban import solver
from envs.sokoban.env import Sokoban
from i2a.planning import mcts
from testing.sokoban_levels import lvl

UP, DOWN, LEFT, RIGHT = 1, 2, 3, 4
OPEN_ROOM = ("#######", "#     #", "# @   #", "#     #", "#  $  #", "#    .#", "#######")


def _env(level, max_steps=120):
  height, width = level.shape
  return Sokoban(width, height, int(np.isin(level, (3, 4)).sum()), max_steps, observation="symbolic")


def _generated(size, boxes, seed, count=3):
  rng = np.random.default_rng(seed)
  return [generator.generate_level(rng, width=size, height=size, num_boxes=boxes) for _ in range(count)]


@pytest.mark.parametrize("size,boxes,seed", [(5, 1, 0), (6, 1, 1), (6, 2, 2), (6, 2, 3)])
def test_solves_small_rooms_the_solver_proves_solvable(size, boxes, seed):
  for level in _generated(size, boxes, seed):
    optimum = solver.solve(level)
    assert optimum is not None  # Ground truth: solvable.
    result = mcts.MCTS(_env(level), mcts.MCTSConfig(budget=20_000)).solve(level)
    assert result.solved and result.simulator_steps <= 20_003
    assert mcts.replay_solves(level, result.actions)
    # A solution needs at least as many pushes as the optimum, and every push is a move.
    pushes = len(solver.solve(level).pushes)
    assert len(result.actions) >= pushes


def test_acting_with_a_per_move_budget_plays_a_solving_plan():
  level = lvl(*OPEN_ROOM)
  result = mcts.MCTS(_env(level), mcts.MCTSConfig(budget=20_000, steps_per_move=200)).solve(level)
  assert result.solved and mcts.replay_solves(level, result.actions)


def test_transposition_table_merges_move_orders():
  level = lvl(*OPEN_ROOM)
  planner = mcts.MCTS(_env(level), mcts.MCTSConfig(budget=400))
  result = planner.solve(level)
  assert not result.solved  # The budget is too small; the tree below the root is what we look at.
  root, i = planner.root, {a: mcts.MOVES.index(a) for a in (UP, DOWN, LEFT, RIGHT)}
  right_down = root.children[i[RIGHT]].children[i[DOWN]]
  down_right = root.children[i[DOWN]].children[i[RIGHT]]
  assert right_down is down_right and right_down.state.steps == 2
  assert root.children[i[RIGHT]].children[i[LEFT]] is not root  # Depth-wise: step 2 differs from 0.
  assert root.children[i[RIGHT]].children[i[LEFT]].state.cells == root.state.cells
  edges = set()
  stack, seen = [root], set()
  while stack:
    node = stack.pop()
    if id(node) in seen or node.children is None:
      continue
    seen.add(id(node))
    edges.update((id(node), j) for j, c in enumerate(node.children) if c is not None)
    stack.extend(c for c in node.children if c is not None)
  assert result.nodes < len(edges) + 1  # Fewer positions than edges into them: states were merged.


def test_value_function_sees_each_new_position_once():
  level = lvl(*OPEN_ROOM)
  seen = []

  def value_fn(states):
    seen.extend(states)
    return np.zeros(len(states), np.float32)

  result = mcts.MCTS(_env(level), mcts.MCTSConfig(budget=300), value_fn).solve(level)
  keys = [(s.cells, s.steps) for s in seen]
  assert len(keys) == len(set(keys)) == result.nodes - 1  # Every node but the root, none twice.


def test_value_function_steers_the_search():
  """A value that rewards the box's progress to the target finds the solution with fewer steps."""
  level = lvl(*OPEN_ROOM)

  def closer_is_better(states):  # Minus the box's distance to the target cell (5, 5) of the padded grid.
    width = level.shape[1] + 2
    values = []
    for s in states:
      box = next(k for k, c in enumerate(s.cells) if c in (3, 4))
      values.append(-abs(box // width - 6) - abs(box % width - 6))
    return np.array(values, np.float32)

  plain = mcts.MCTS(_env(level), mcts.MCTSConfig(budget=20_000)).solve(level)
  guided = mcts.MCTS(_env(level), mcts.MCTSConfig(budget=20_000), closer_is_better).solve(level)
  assert plain.solved and guided.solved and guided.simulator_steps < plain.simulator_steps


def test_unsolvable_level_spends_the_budget_and_reports_failure():
  level = lvl("######", "#$   #", "#  @ #", "#   .#", "######")  # Box in a corner.
  result = mcts.MCTS(_env(level), mcts.MCTSConfig(budget=500)).solve(level)
  assert not result.solved and 500 <= result.simulator_steps <= 503 and result.actions == []


def test_a_finite_tree_is_searched_to_the_end_and_stops():
  """With a 6-step limit every line times out: the search closes the root instead of looping."""
  level = lvl("######", "#$   #", "#  @ #", "#   .#", "######")
  result = mcts.MCTS(_env(level, max_steps=6), mcts.MCTSConfig(budget=1_000_000)).solve(level)
  assert not result.solved and result.simulator_steps < 1_000_000


def test_replay_solves_checks_the_plan():
  level = lvl("#####", "#@$.#", "#####")
  assert mcts.replay_solves(level, [RIGHT]) and mcts.replay_solves(level, [LEFT, RIGHT])
  assert not mcts.replay_solves(level, [LEFT])
  assert not mcts.replay_solves(level, [RIGHT, LEFT])  # Moves after the end are not this plan.
  assert not mcts.replay_solves(level, [])


@pytest.mark.parametrize("kwargs", [dict(budget=0), dict(steps_per_move=0), dict(discount=0.0),
                                    dict(exploration=-1.0)])
def test_bad_config_is_refused(kwargs):
  with pytest.raises(ValueError):
    mcts.MCTSConfig(**kwargs)


def test_a_node_closed_through_another_parent_backs_up_its_best_mean_return():
  # Right-then-down and down-then-right reach one position (a transposition). Once everything below
  # it is closed through one parent, a simulation through the other parent must back up the node's
  # value, not 0.
  level = lvl(*OPEN_ROOM)
  planner = mcts.MCTS(_env(level), mcts.MCTSConfig(budget=400, discount=0.9))
  planner.solve(level)
  root, i = planner.root, {a: mcts.MOVES.index(a) for a in (UP, DOWN, LEFT, RIGHT)}
  shared = root.children[i[RIGHT]].children[i[DOWN]]
  assert shared is root.children[i[DOWN]].children[i[RIGHT]] and shared.children is not None
  for child in shared.children:  # As if searched to the end through the other parent.
    if child is not None:
      child.closed = True
  best = max(shared.returns[j] / shared.visits[j] for j, c in enumerate(shared.children) if c is not None)
  assert best != 0.0
  parent = root.children[i[DOWN]]
  for j, child in enumerate(parent.children):  # Make the simulation descend DOWN -> RIGHT -> shared.
    if child is not None and j != i[RIGHT]:
      child.closed = True
  for j, child in enumerate(root.children):
    if child is not None and j != i[DOWN]:
      child.closed = True
  returns, visits = parent.returns[i[RIGHT]], parent.visits[i[RIGHT]]
  planner._simulate(root)  # pylint: disable=protected-access
  assert shared.closed and parent.visits[i[RIGHT]] == visits + 1
  np.testing.assert_allclose(parent.returns[i[RIGHT]] - returns,
                             parent.rewards[i[RIGHT]] + 0.9 * best, rtol=1e-9)
