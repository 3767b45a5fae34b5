"""Hand-made Sokoban levels shared by the Sokoban test files."""
import numpy as np

from envs.sokoban import level as level_lib


def lvl(*rows: str) -> np.ndarray:
  """A level from Boxoban-style text rows ('#', ' ', '@', '$', '.', '*', '+')."""
  return level_lib.from_text(list(rows))


def open_room_four_boxes() -> np.ndarray:
  """uint8 [10, 10]: an 8x8 open floor, boxes in row 2, targets in row 6, the player between them."""
  level = np.full((10, 10), level_lib.WALL, np.uint8)
  level[1:9, 1:9] = level_lib.FLOOR
  level[2, 2:6] = level_lib.BOX
  level[6, 2:6] = level_lib.TARGET
  level[4, 4] = level_lib.PLAYER
  return level
