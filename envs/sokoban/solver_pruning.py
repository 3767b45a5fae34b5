"""Lower bounds and deadlock tests for the Sokoban solver (`solver.py`).

Both are exact (they never cut off a solvable state), so the solver stays optimal:
* push distances: the fewest pushes that bring a box from a cell to the nearest target on a board
  with no other boxes; a cell from which no target is reachable is a dead square, and the sum over
  boxes is an admissible, consistent A* heuristic (one push changes one box's distance by at most 1).
* 2x2 freeze: four cells in a square, each a wall or a box, freeze every box in it for good (none can
  be pushed: each push needs a free cell in the square on the other side), so if one of those boxes
  is off a target the state is lost.
"""
import collections

from envs.sokoban import bitboard

UNREACHABLE = 1 << 30  # Push distance of a dead square.


def push_distances(board: bitboard.Board) -> list[int]:
  """Fewest pushes from each cell to any target for a lone box (reverse BFS over pulls).

  Args:
    board: the static board.

  Returns:
    A list over cell indices: push distance, or UNREACHABLE for walls and dead squares.
  """
  size = board.height * board.width
  offsets = tuple(board.deltas.values())
  floor = board.floor
  dist = [UNREACHABLE] * size
  queue = collections.deque()
  for target in bitboard.cells_of(board.targets):
    dist[target] = 0
    queue.append(target)
  while queue:
    cell = queue.popleft()
    for offset in offsets:
      before = cell - offset  # The box came from here, pushed by a player standing at before - offset.
      if (dist[before] == UNREACHABLE and floor >> before & 1
          and floor >> (before - offset) & 1):
        dist[before] = dist[cell] + 1
        queue.append(before)
  return dist


def frozen_square(board: bitboard.Board, boxes: int, cell: int) -> bool:
  """Whether a box just pushed to `cell` completes a 2x2 square of walls/boxes holding a box off target.

  Args:
    board: the static board.
    boxes: box mask after the push (includes `cell`).
    cell: where the box was pushed.

  Returns:
    True if the state is a freeze deadlock (unsolvable).
  """
  width = board.width
  blocked = ~board.floor | boxes
  loose = boxes & ~board.targets
  for d_col in (-1, 1):
    for d_row in (-width, width):
      square = (1 << cell) | (1 << (cell + d_col)) | (1 << (cell + d_row)) | (
          1 << (cell + d_col + d_row))
      if blocked & square == square and loose & square:
        return True
  return False
