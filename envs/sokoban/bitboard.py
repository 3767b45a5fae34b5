"""A compact bit-mask encoding of Sokoban boards, shared by the level generator and the solver.

A board of H x W cells is flattened row-major: cell index i = row * W + col, and a set of cells is a
Python int whose bit i is set for each member. Moving one cell right/left/down/up adds +1/-1/+W/-W to
an index, i.e. shifts a mask by 1 or W bits. Shifting never wraps into a playable cell because the
outer ring of the board is all walls (levels without a wall ring get one added, see `pad`), so growing
the player's reachable region is a handful of big-int operations per step instead of a Python BFS.
"""
import dataclasses

import numpy as np

from envs.sokoban import level as level_lib

# Environment action codes (0 is the no-op) and their (d_row, d_col).
UP, DOWN, LEFT, RIGHT = 1, 2, 3, 4
ACTION_DELTAS = {UP: (-1, 0), DOWN: (1, 0), LEFT: (0, -1), RIGHT: (0, 1)}

_BOX_CODES = (level_lib.BOX, level_lib.BOX_ON_TARGET)
_TARGET_CODES = (level_lib.TARGET, level_lib.BOX_ON_TARGET, level_lib.PLAYER_ON_TARGET)
_PLAYER_CODES = (level_lib.PLAYER, level_lib.PLAYER_ON_TARGET)


class InvalidLevelError(ValueError):
  """A level array that is not a playable Sokoban level (shape, codes, player or box counts)."""


@dataclasses.dataclass(frozen=True)
class Board:
  """The static part of a level (walls and targets) in bit-mask form.

  Attributes:
    height: rows of the (possibly padded) board.
    width: columns of the (possibly padded) board.
    pad: 1 if a ring of walls was added around the level (its border had a non-wall), else 0.
    floor: mask of every non-wall cell.
    targets: mask of the target cells.
  """
  height: int
  width: int
  pad: int
  floor: int
  targets: int

  @property
  def deltas(self) -> dict[int, int]:
    """Action code -> index offset of one step in that direction."""
    return {a: dr * self.width + dc for a, (dr, dc) in ACTION_DELTAS.items()}

  def cell(self, row: int, col: int) -> int:
    """Index of (row, col) given in the coordinates of the original, unpadded level."""
    return (row + self.pad) * self.width + col + self.pad

  def coords(self, cell: int) -> tuple[int, int]:
    """(row, col) of a cell index in the coordinates of the original, unpadded level."""
    row, col = divmod(cell, self.width)
    return row - self.pad, col - self.pad

  def reach(self, player: int, boxes: int) -> int:
    """Mask of the cells the player at `player` can walk to without pushing any of `boxes`."""
    return flood(player, self.floor & ~boxes, self.width)

  def to_level(self, player: int, boxes: int) -> np.ndarray:
    """The level array (uint8 [H, W], original size) with the player and boxes at these cells."""
    codes = np.zeros(self.height * self.width, dtype=np.uint8)
    for i in range(self.height * self.width):
      if self.floor >> i & 1:
        on_target = self.targets >> i & 1
        if boxes >> i & 1:
          codes[i] = level_lib.BOX_ON_TARGET if on_target else level_lib.BOX
        elif i == player:
          codes[i] = level_lib.PLAYER_ON_TARGET if on_target else level_lib.PLAYER
        else:
          codes[i] = level_lib.TARGET if on_target else level_lib.FLOOR
    grid = codes.reshape(self.height, self.width)
    if self.pad:
      grid = grid[1:-1, 1:-1]
    return np.ascontiguousarray(grid)


def flood(start: int, free: int, width: int) -> int:
  """The connected region of `free` (a mask) containing cell `start`, grown by bit shifts.

  Args:
    start: a cell index, a member of `free`.
    free: mask of the cells that may be entered; must exclude every cell of the board's outer ring.
    width: board width (the index offset of one row).

  Returns:
    The mask of the region (includes `start`).
  """
  reach = 1 << start
  while True:  # Two growth steps per test: the test costs as much as a step.
    grown = (reach | reach << 1 | reach >> 1 | reach << width | reach >> width) & free
    reach = (grown | grown << 1 | grown >> 1 | grown << width | grown >> width) & free
    if grown == reach:
      return reach


def cells_of(mask: int) -> list[int]:
  """Indices of the set bits of `mask`, in increasing order."""
  cells = []
  while mask:
    low = mask & -mask
    cells.append(low.bit_length() - 1)
    mask ^= low
  return cells


def parse_level(level: np.ndarray) -> tuple[Board, int, int]:
  """Validates a level array and converts it to bit-mask form.

  Args:
    level: uint8 [H, W] in the codes of `envs.sokoban.level`.

  Returns:
    (board, player cell index, boxes mask).

  Raises:
    InvalidLevelError: wrong rank or dtype kind, unknown codes, not exactly one player, or a
      different number of boxes and targets.
  """
  level = np.asarray(level)
  if level.ndim != 2 or min(level.shape) < 1 or level.dtype.kind not in "iu":
    raise InvalidLevelError(f"a level must be a 2-D integer array, got {level.dtype} {level.shape}")
  if level.min() < 0 or level.max() >= level_lib.NUM_CELL_TYPES:
    raise InvalidLevelError(f"level has cell codes outside 0..{level_lib.NUM_CELL_TYPES - 1}")
  num_players = int(np.isin(level, _PLAYER_CODES).sum())
  if num_players != 1:
    raise InvalidLevelError(f"a level needs exactly one player, found {num_players}")
  num_boxes = int(np.isin(level, _BOX_CODES).sum())
  num_targets = int(np.isin(level, _TARGET_CODES).sum())
  if num_boxes != num_targets:
    raise InvalidLevelError(f"level has {num_boxes} boxes but {num_targets} targets")
  border = np.concatenate([level[0], level[-1], level[:, 0], level[:, -1]])
  pad = int(bool((border != level_lib.WALL).any()))
  grid = np.pad(level, pad, constant_values=level_lib.WALL) if pad else level
  height, width = grid.shape
  flat = grid.reshape(-1).tolist()
  floor = targets = boxes = 0
  player = -1
  for i, code in enumerate(flat):
    if code == level_lib.WALL:
      continue
    floor |= 1 << i
    if code in _TARGET_CODES:
      targets |= 1 << i
    if code in _BOX_CODES:
      boxes |= 1 << i
    if code in _PLAYER_CODES:
      player = i
  board = Board(height=height, width=width, pad=pad, floor=floor, targets=targets)
  return board, player, boxes
