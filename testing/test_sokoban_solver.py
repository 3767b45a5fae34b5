"""Tests of the exact Sokoban solver and of `apply_moves` (the plain game rules)."""
import collections

import numpy as np
import pytest

from envs.sokoban import bitboard
from envs.sokoban import generator
from envs.sokoban import level as level_lib
from envs.sokoban import solver
from testing.sokoban_levels import lvl as _level

UP, DOWN, LEFT, RIGHT = 1, 2, 3, 4


def _reference_min_pushes(level: np.ndarray) -> int | None:
  """Fewest pushes by a 0-1 BFS over the full move graph (walk costs 0, push costs 1)."""
  height, width = level.shape
  walls = {(r, c) for r in range(height) for c in range(width) if level[r, c] == level_lib.WALL}
  targets = {tuple(rc) for rc in np.argwhere(np.isin(level, (2, 4, 6)))}
  boxes = frozenset(tuple(rc) for rc in np.argwhere(np.isin(level, (3, 4))))
  player = tuple(np.argwhere(np.isin(level, (5, 6)))[0])
  inside = lambda r, c: 0 <= r < height and 0 <= c < width and (r, c) not in walls
  start = (player, boxes)
  cost = {start: 0}
  queue = collections.deque([start])
  while queue:
    state = queue.popleft()
    (r, c), boxes = state
    if boxes == targets:
      return cost[state]
    for d_r, d_c in ((-1, 0), (1, 0), (0, -1), (0, 1)):
      nxt = (r + d_r, c + d_c)
      if not inside(*nxt):
        continue
      if nxt in boxes:
        beyond = (nxt[0] + d_r, nxt[1] + d_c)
        if not inside(*beyond) or beyond in boxes:
          continue
        child, step = (nxt, boxes - {nxt} | {beyond}), 1
      else:
        child, step = (nxt, boxes), 0
      if child not in cost or cost[child] > cost[state] + step:
        cost[child] = cost[state] + step
        (queue.append if step else queue.appendleft)(child)
  return None


HAND_MADE = {
    "solved_already": (["#####", "#@* #", "#####"], 0),
    "one_push": (["#####", "#@$.#", "#####"], 1),
    "walk_around_then_two_pushes": (["#######", "#     #", "#  $@.#", "#     #", "#######"], 2),
    "two_boxes_two_pushes_each": (["########", "#@ $ . #", "#  $ . #", "#      #", "########"], 4),
    "detour_down_and_round": (["#######", "#     #", "# # # #", "#.#$#@#", "#     #", "#     #",
                               "#######"], 4),
    "no_wall_border": (["@$."], 1),
    "player_on_target": (["######", "#+$  #", "# $. #", "#    #", "######"], None),
}


@pytest.mark.parametrize("rows,expected", HAND_MADE.values(), ids=HAND_MADE.keys())
def test_solve_finds_optimal_push_count(rows, expected):
  level = _level(*rows)
  reference = _reference_min_pushes(level)
  if expected is not None:
    assert reference == expected  # The hand count and the brute force agree.
  solution = solver.solve(level)
  assert solution is not None
  assert solution.num_pushes == reference
  assert solver.is_solved(solver.apply_moves(level, solution.moves))


def test_solve_matches_brute_force_on_small_generated_levels():
  rng = np.random.default_rng(7)
  for num_boxes in (1, 2, 2, 3):
    level = generator.generate_level(rng, width=7, height=7, num_boxes=num_boxes)
    solution = solver.solve(level)
    assert solution is not None
    assert solution.num_pushes == _reference_min_pushes(level)


def test_solution_moves_contain_exactly_the_pushes():
  level = _level("########", "#@ $ . #", "#  $ . #", "#      #", "########")
  solution = solver.solve(level)
  grid, pushes = level, []
  for action in solution.moves:
    after = solver.apply_moves(grid, [action])
    moved = np.isin(grid, (3, 4)) != np.isin(after, (3, 4))
    if moved.any():
      (row, col), = [tuple(rc) for rc in np.argwhere(moved & np.isin(grid, (3, 4)))]
      pushes.append(solver.Push(int(row), int(col), action))
    grid = after
  assert pushes == solution.pushes
  assert solver.is_solved(grid)


def test_push_coordinates_of_unpadded_level():
  solution = solver.solve(_level("@$."))
  assert solution.pushes == [solver.Push(0, 1, RIGHT)]
  assert solution.moves == [RIGHT]


UNSOLVABLE = {
    "box_in_corner": ["#####", "#$ .#", "# @ #", "#####"],
    "two_boxes_in_a_row": ["########", "#@$$..#", "########"],
    "target_unreachable": ["#######", "#@$ ###", "### #.#", "#######"],
}


@pytest.mark.parametrize("rows", UNSOLVABLE.values(), ids=UNSOLVABLE.keys())
def test_solve_returns_none_on_unsolvable(rows):
  level = _level(*rows)
  assert _reference_min_pushes(level) is None
  assert solver.solve(level) is None


def test_solve_raises_when_budget_exceeded():
  level = _level("########", "#@ $ . #", "#  $ . #", "#      #", "########")
  with pytest.raises(solver.SolverBudgetExceeded, match="max_states=1"):
    solver.solve(level, max_states=1)


INVALID = {
    "two_players": ["#####", "#@$.#", "#@  #", "#####"],
    "no_player": ["#####", "# $.#", "#####"],
    "boxes_neq_targets": ["#####", "#@$ #", "#####"],
}


@pytest.mark.parametrize("rows", INVALID.values(), ids=INVALID.keys())
def test_solve_rejects_invalid_levels(rows):
  with pytest.raises(bitboard.InvalidLevelError):
    solver.solve(_level(*rows))


APPLY_CASES = {
    "walk": (["######", "#@ $.#", "######"], [RIGHT], ["######", "# @$.#", "######"]),
    "into_wall_is_noop": (["####", "#@$.", "####"], [UP, LEFT], ["####", "#@$.", "####"]),
    "push_onto_target": (["#####", "#@$.#", "#####"], [RIGHT], ["#####", "# @*#", "#####"]),
    "box_against_box_is_noop": (["######", "#@$$.#", "######"], [RIGHT], ["######", "#@$$.#", "######"]),
    "push_off_target_and_stand_on_it": (["######", "#@*  #", "######"], [RIGHT, RIGHT],
                                        ["######", "# .@$#", "######"]),
    "noop_action": (["#####", "#@$.#", "#####"], [0, 0], ["#####", "#@$.#", "#####"]),
    "never_pulls": (["#####", "#$@.#", "#####"], [RIGHT], ["#####", "#$ +#", "#####"]),
}


@pytest.mark.parametrize("before,moves,after", APPLY_CASES.values(), ids=APPLY_CASES.keys())
def test_apply_moves_follows_the_rules(before, moves, after):
  level = _level(*before)
  original = level.copy()
  result = solver.apply_moves(level, moves)
  np.testing.assert_array_equal(result, _level(*after))
  np.testing.assert_array_equal(level, original)  # The input is not modified.
  assert result.dtype == np.uint8


def test_apply_moves_rejects_bad_action():
  with pytest.raises(ValueError, match="move 1 has action code 5"):
    solver.apply_moves(_level("#####", "#@$.#", "#####"), [RIGHT, 5])
