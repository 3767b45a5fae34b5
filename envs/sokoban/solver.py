"""An exact, push-optimal Sokoban solver for small levels, and the game rules to check its answers.

`solve` runs A* over pushes: a state is (box cells, region the player can walk to), so walks between
pushes are folded into the region and every edge is one push. The heuristic (sum of lone-box push
distances) is admissible and consistent and the pruning (dead squares, 2x2 freezes) only drops lost
states (`solver_pruning.py`), so the first solved state popped has the fewest pushes. The push
sequence is then expanded into a full move sequence in the environment's action codes.
"""
import collections
import dataclasses
import heapq
from typing import NamedTuple, Sequence

import numpy as np

from envs.sokoban import bitboard
from envs.sokoban import level as level_lib
from envs.sokoban import solver_pruning

DEFAULT_MAX_STATES = 200_000


class SolverBudgetExceeded(RuntimeError):
  """The search expanded `max_states` states without proving the level solvable or unsolvable."""


class Push(NamedTuple):
  """One push: the box at (row, col) moves one cell in `action`'s direction (1 up, 2 down, 3 left,
  4 right)."""
  row: int
  col: int
  action: int


@dataclasses.dataclass(frozen=True)
class Solution:
  """A push-optimal solution.

  Attributes:
    pushes: the pushes in order (the fewest possible).
    moves: every action in order (walks and pushes), codes 1 up, 2 down, 3 left, 4 right.
    states_expanded: A* states expanded to find it.
  """
  pushes: list[Push]
  moves: list[int]
  states_expanded: int

  @property
  def num_pushes(self) -> int:
    return len(self.pushes)


def solve(level: np.ndarray, max_states: int = DEFAULT_MAX_STATES) -> Solution | None:
  """Finds a solution with the fewest pushes.

  Args:
    level: uint8 [H, W] in the codes of `envs.sokoban.level`.
    max_states: most states to expand before giving up.

  Returns:
    A Solution, or None if the level is unsolvable.

  Raises:
    bitboard.InvalidLevelError: the level is not a valid level.
    SolverBudgetExceeded: the search expanded more than `max_states` states.
  """
  if max_states < 1:
    raise ValueError(f"max_states must be >= 1, got {max_states}")
  board, player, boxes = bitboard.parse_level(level)
  dist = solver_pruning.push_distances(board)
  if any(dist[b] == solver_pruning.UNREACHABLE for b in bitboard.cells_of(boxes)):
    return None
  offsets = board.deltas  # action -> offset
  free = board.floor
  start = (boxes, board.reach(player, boxes))
  g_of = {start: 0}
  parent = {start: None}  # key -> (parent key, box cell, action)
  closed = set()
  tie = 0
  heap = [(sum(dist[b] for b in bitboard.cells_of(boxes)), 0, tie, start)]
  while heap:
    _, neg_g, _, key = heapq.heappop(heap)
    if key in closed:
      continue
    box_mask, reach = key
    if box_mask == board.targets:
      return _solution(board, player, boxes, _push_path(parent, key), len(closed))
    closed.add(key)
    if len(closed) > max_states:
      raise SolverBudgetExceeded(f"solver expanded more than max_states={max_states} states without "
                                 "an answer; raise max_states or use a smaller level")
    g_child = 1 - neg_g
    h_base = sum(dist[b] for b in bitboard.cells_of(box_mask))
    for box in bitboard.cells_of(box_mask):
      for action, offset in offsets.items():
        dest = box + offset
        if (not reach >> (box - offset) & 1 or not free >> dest & 1 or box_mask >> dest & 1
            or dist[dest] == solver_pruning.UNREACHABLE):
          continue
        moved = box_mask ^ (1 << box) ^ (1 << dest)
        if solver_pruning.frozen_square(board, moved, dest):
          continue
        child = (moved, bitboard.flood(box, free & ~moved, board.width))
        if child in closed or g_of.get(child, g_child + 1) <= g_child:
          continue
        g_of[child] = g_child
        parent[child] = (key, box, action)
        tie += 1
        heapq.heappush(heap, (g_child + h_base - dist[box] + dist[dest], -g_child, tie, child))
  return None


def _push_path(parent: dict, key) -> list[tuple[int, int]]:
  """(box cell, action) pushes from the start to `key`, following parent links."""
  pushes = []
  while parent[key] is not None:
    key, box, action = parent[key]
    pushes.append((box, action))
  return pushes[::-1]


def _walk(board: bitboard.Board, start: int, goal: int, boxes: int) -> list[int]:
  """Shortest walk (action codes) from `start` to `goal` avoiding walls and boxes (BFS)."""
  free = board.floor & ~boxes
  came_from = {start: None}
  queue = collections.deque([start])
  offsets = board.deltas
  while queue:
    cell = queue.popleft()
    if cell == goal:
      break
    for action, offset in offsets.items():
      nxt = cell + offset
      if nxt not in came_from and free >> nxt & 1:
        came_from[nxt] = (cell, action)
        queue.append(nxt)
  actions = []
  while came_from[goal] is not None:
    goal, action = came_from[goal]
    actions.append(action)
  return actions[::-1]


def _solution(board: bitboard.Board, player: int, boxes: int, pushes: list[tuple[int, int]],
              expanded: int) -> Solution:
  """Expands pushes into moves by walking the player to each push."""
  moves = []
  offsets = board.deltas
  for box, action in pushes:
    moves.extend(_walk(board, player, box - offsets[action], boxes))
    moves.append(action)
    boxes ^= (1 << box) | (1 << (box + offsets[action]))
    player = box
  return Solution(pushes=[Push(*board.coords(box), action) for box, action in pushes], moves=moves,
                  states_expanded=expanded)


_BOXES = (level_lib.BOX, level_lib.BOX_ON_TARGET)


def apply_moves(level: np.ndarray, moves: Sequence[int]) -> np.ndarray:
  """Plays moves with the plain Sokoban rules, returning the resulting level (input unchanged).

  A move into a wall does nothing; a move into a box pushes it if the cell beyond is floor or target,
  else does nothing; the player never pushes two boxes and never pulls. Action 0 is a no-op.

  Args:
    level: uint8 [H, W] with exactly one player.
    moves: action codes in 0..4 (0 no-op, 1 up, 2 down, 3 left, 4 right).

  Returns:
    uint8 [H, W], a new array.

  Raises:
    ValueError: an action code outside 0..4, or not exactly one player.
  """
  grid = np.array(level, dtype=np.uint8, copy=True)
  players = np.argwhere(np.isin(grid, (level_lib.PLAYER, level_lib.PLAYER_ON_TARGET)))
  if len(players) != 1:
    raise ValueError(f"apply_moves needs exactly one player, found {len(players)}")
  row, col = (int(x) for x in players[0])
  height, width = grid.shape
  for step, action in enumerate(moves):
    if action == 0:
      continue
    if action not in bitboard.ACTION_DELTAS:
      raise ValueError(f"move {step} has action code {action!r}; expected 0..4")
    d_row, d_col = bitboard.ACTION_DELTAS[action]
    r1, c1 = row + d_row, col + d_col
    if not (0 <= r1 < height and 0 <= c1 < width) or grid[r1, c1] == level_lib.WALL:
      continue
    if grid[r1, c1] in _BOXES:
      r2, c2 = r1 + d_row, c1 + d_col
      if not (0 <= r2 < height and 0 <= c2 < width) or grid[r2, c2] not in (level_lib.FLOOR,
                                                                              level_lib.TARGET):
        continue
      grid[r2, c2] = level_lib.BOX_ON_TARGET if grid[r2, c2] == level_lib.TARGET else level_lib.BOX
      grid[r1, c1] = level_lib.TARGET if grid[r1, c1] == level_lib.BOX_ON_TARGET else level_lib.FLOOR
    on_target = grid[row, col] == level_lib.PLAYER_ON_TARGET
    grid[row, col] = level_lib.TARGET if on_target else level_lib.FLOOR
    grid[r1, c1] = level_lib.PLAYER_ON_TARGET if grid[r1, c1] == level_lib.TARGET else level_lib.PLAYER
    row, col = r1, c1
  return grid


def is_solved(level: np.ndarray) -> bool:
  """True if no box is off a target (levels hold as many boxes as targets)."""
  return not bool((np.asarray(level) == level_lib.BOX).any())
