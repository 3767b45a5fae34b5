"""MCTS over the real Sokoban simulator: the paper's perfect-model planning baseline (App. D.3, Table 1).

UCT (exploration constant 1) over a depth-wise transposition table: a node is a game position *at an
episode step*, keyed by (cells, step), so two action orders that reach the same position after the same
number of steps share one node and the graph stays acyclic (App. D.3: "depth-wise transposition tables").
A leaf is expanded by stepping the simulator once per move from its snapshot (`Sokoban.set_state`) and
every new position is scored by a value function (App. D.3: a value network on the symbolic state;
`value_net.py`); the leaf's return estimate max_a [r_a + discount * V(child_a)] is backed up the path.

The budget is the number of simulator steps per level (Table 1 counts 25k and 100k). The search acts as
the appendix does: after `steps_per_move` steps it plays the root move with the highest mean return and
keeps the tree (subtree reuse comes from the table); because the simulator is exact, once a simulation
reaches a solved position the whole path to it is played. With `steps_per_move=None` it plans from the
start until it finds a solution or spends the budget.
"""
import dataclasses
import math
from typing import Callable, Optional, Sequence

import numpy as np

from envs.sokoban import config as sokoban_config
from envs.sokoban import env as env_lib
from envs.sokoban import level as level_lib

ValueFn = Callable[[Sequence[env_lib.SokobanState]], np.ndarray]
MOVES = (1, 2, 3, 4)  # No-op (0) never helps a deterministic planner, so it is never expanded.


def zero_value(states: Sequence[env_lib.SokobanState]) -> np.ndarray:
  """float32 [N] zeros: plain UCT with no value estimate (for tests and small rooms)."""
  return np.zeros(len(states), np.float32)


@dataclasses.dataclass(frozen=True)
class MCTSConfig:
  """Search settings.

  Attributes:
    budget: simulator steps per level (paper Table 1: 25,000 and 100,000). The last leaf expansion
      may overshoot it by up to 3 steps (a leaf is expanded with all 4 moves at once).
    steps_per_move: simulator steps between two played moves; None plans from the start until a
      solution is found or the budget is spent.
    exploration: UCT constant c in Q + c * sqrt(ln N / n) (App. D.3: 1).
    discount: per-step discount of backed-up returns (the learner's 0.99).
  """
  budget: int = 25_000
  steps_per_move: Optional[int] = None
  exploration: float = 1.0
  discount: float = 0.99

  def __post_init__(self):
    if self.budget < 1:
      raise ValueError(f"MCTSConfig.budget must be >= 1, got {self.budget}")
    if self.steps_per_move is not None and self.steps_per_move < 1:
      raise ValueError(f"MCTSConfig.steps_per_move must be >= 1 or None, got {self.steps_per_move}")
    if self.exploration < 0 or not 0 < self.discount <= 1:
      raise ValueError(f"MCTSConfig: exploration must be >= 0 and discount in (0, 1], got "
                       f"{self.exploration}, {self.discount}")


@dataclasses.dataclass(frozen=True)
class MCTSResult:
  """What a search of one level did.

  Attributes:
    solved: the played moves solve the level.
    actions: the moves played from the level's start (a plan; replayed in a fresh env it gives the
      same outcome).
    simulator_steps: `env.step` calls the search made (the budget's unit).
    nodes: positions in the transposition table at the end.
  """
  solved: bool
  actions: list[int]
  simulator_steps: int
  nodes: int


class Node:
  """A position at an episode step and the statistics of its moves (index i is action `MOVES[i]`).

  Attributes:
    state: the simulator snapshot.
    terminal: the episode ends here (solved or out of steps).
    closed: nothing below is left to search (terminal, or every child closed); selection skips it.
    value: the value function's estimate of the position (0 for terminal positions).
    children: None until expanded, then per move the child node, or None if the move changes nothing.
    rewards, visits, returns: per move, the step's reward, the visit count and the sum of backed-up
      returns (the mean return is the move's Q).
  """
  __slots__ = ("state", "terminal", "closed", "value", "children", "rewards", "visits", "returns")

  def __init__(self, state: env_lib.SokobanState, terminal: bool):
    self.state = state
    self.terminal = terminal
    self.closed = terminal
    self.value = 0.0
    self.children: Optional[list] = None  # None until expanded; then a child or None (no effect) per move.
    self.rewards = [0.0] * len(MOVES)
    self.visits = [0] * len(MOVES)
    self.returns = [0.0] * len(MOVES)


class MCTS:
  """UCT with a transposition table over a `Sokoban` environment used as a perfect model."""

  def __init__(self, env: env_lib.Sokoban, config: MCTSConfig, value_fn: ValueFn = zero_value):
    """Builds the planner.

    Args:
      env: the simulator (its observation kind does not matter; 'symbolic' is the fastest). The search
        moves it freely with `set_state`.
      config: search settings.
      value_fn: scores positions: float32 [N] from N `SokobanState`s (e.g. `value_net.NetValue`).
    """
    self._env = env
    self._config = config
    self._value_fn = value_fn
    self._max_steps = env.config.max_steps
    self._table: dict = {}
    self._steps = 0
    self._solution: Optional[list[int]] = None
    self.root: Optional[Node] = None  # The level's start position, after `solve`.

  def _node(self, state: env_lib.SokobanState, terminal: bool) -> tuple[Node, bool]:
    key = (state.cells, state.steps)
    node = self._table.get(key)
    if node is not None:
      return node, False
    node = self._table[key] = Node(state, terminal)
    return node, True

  def _expand(self, node: Node, path_actions: list[int]) -> float:
    """Steps every move from `node`, scores the new children; returns the leaf's return estimate."""
    env, discount = self._env, self._config.discount
    node.children, fresh = [], []
    for i, action in enumerate(MOVES):
      env.set_state(node.state)
      ts = env.step(action)
      self._steps += 1
      state = env.get_state(include_rng=False)
      if state.cells == node.state.cells:  # A bump into a wall or a blocked box: only wastes a step.
        node.children.append(None)
        continue
      solved = ts.last() and ts.discount == 0
      child, new = self._node(state, terminal=ts.last())
      node.children.append(child)
      node.rewards[i] = float(ts.reward)
      if solved and (self._solution is None or len(path_actions) + 1 < len(self._solution)):
        self._solution = path_actions + [action]
      if new and not child.terminal:
        fresh.append(child)
    if fresh:
      for child, value in zip(fresh, self._value_fn([c.state for c in fresh])):
        child.value = float(value)
    best = -math.inf
    for i, child in enumerate(node.children):
      if child is not None:
        q = node.rewards[i] + (0.0 if child.terminal else discount * child.value)
        node.visits[i], node.returns[i] = 1, q
        best = max(best, q)
    if best == -math.inf:  # Every move bumps: nothing can change here (never in a valid level).
      node.terminal = node.closed = True
      return 0.0
    return best

  def _select(self, node: Node) -> int:
    """The UCT move index among the open children of an expanded node (ties: first); -1 if none."""
    total = sum(node.visits)
    log_total = math.log(total) if total > 0 else 0.0
    c = self._config.exploration
    best, best_i = -math.inf, -1
    for i, child in enumerate(node.children):
      if child is None or child.closed:
        continue
      n = node.visits[i]
      score = node.returns[i] / n + c * math.sqrt(log_total / n)
      if score > best:
        best, best_i = score, i
    return best_i

  @staticmethod
  def _best_mean_return(node: Node) -> float:
    """The highest mean backed-up return over an expanded node's moves (0 if every move bumps)."""
    means = [node.returns[i] / node.visits[i] for i, child in enumerate(node.children)
             if child is not None and node.visits[i] > 0]
    return max(means, default=0.0)

  def _simulate(self, root: Node) -> None:
    """One simulation: descend by UCT to a leaf, expand it, back its estimate up the path.

    Each simulation either spends simulator steps or closes a node, so a finite tree is never searched
    forever (e.g. once every line of play has hit the time limit)."""
    node, path, actions = root, [], []
    value = None
    while node.children is not None and not node.terminal:
      i = self._select(node)
      if i < 0:  # Every child is closed (possibly through another parent): so is this node.
        node.closed = True
        # Its value is its best move's mean return, searched below it through the other parent; a 0
        # here would pull its parents' means toward 0 for a node that is merely finished.
        value = self._best_mean_return(node)
        break
      path.append((node, i))
      actions.append(MOVES[i])
      node = node.children[i]
    if value is None:
      value = 0.0 if node.terminal else self._expand(node, actions)
    discount = self._config.discount
    for parent, i in reversed(path):
      value = parent.rewards[i] + discount * value
      parent.visits[i] += 1
      parent.returns[i] += value
      if all(c is None or c.closed for c in parent.children):
        parent.closed = True

  def solve(self, level: Optional[np.ndarray] = None) -> MCTSResult:
    """Plays one level (by default the environment's current one) within the budget.

    Args:
      level: uint8 [height, width], or None to search from the environment's current state.
    """
    env, cfg = self._env, self._config
    if level is not None:
      env.reset_to_level(level)
    self._table, self._steps, self._solution = {}, 0, None
    root, _ = self._node(env.get_state(include_rng=False), terminal=False)
    self.root = root
    played: list[int] = []
    while True:
      target = cfg.budget if cfg.steps_per_move is None else min(cfg.budget,
                                                                 self._steps + cfg.steps_per_move)
      while self._steps < target and self._solution is None and not root.closed:
        self._simulate(root)
      if self._solution is not None:
        return MCTSResult(True, played + self._solution, self._steps, len(self._table))
      if self._steps >= cfg.budget or root.closed or root.children is None:
        return MCTSResult(False, played, self._steps, len(self._table))
      moves = [i for i, c in enumerate(root.children) if c is not None]
      moves = [i for i in moves if not root.children[i].closed] or moves  # Closed: searched in vain.
      i = max(moves, key=lambda i: root.returns[i] / root.visits[i])
      played.append(MOVES[i])
      root = root.children[i]  # Subtree reuse: the table keeps everything below it.
      if root.terminal:  # A time-limit end (a solving move would have been recorded above).
        return MCTSResult(False, played, self._steps, len(self._table))


def replay_solves(level: np.ndarray, actions: Sequence[int], max_steps: int = 120) -> bool:
  """Plays `actions` from `level` in a fresh `Sokoban`: True if the last one solves it."""
  height, width = level.shape
  num_boxes = int(np.isin(level, (level_lib.BOX, level_lib.BOX_ON_TARGET)).sum())
  env = env_lib.Sokoban(width=width, height=height, num_boxes=num_boxes, max_steps=max_steps,
                        observation="symbolic", levels=[level])
  env.reset()
  for t, action in enumerate(actions):
    if not 0 <= action < sokoban_config.NUM_ACTIONS:
      raise ValueError(f"action {t} is {action}, outside [0, {sokoban_config.NUM_ACTIONS})")
    ts = env.step(action)
    if ts.last():
      return ts.discount == 0 and t == len(actions) - 1
  return False
