"""Symbolic Sokoban states for planning: the value network's 4-plane input, and levels read off frames.

The paper's MCTS value network reads "a 10x10x4 symbolic state" (App. D.3, recalled): we take the four
planes to be wall, target, box and player, each 0/1.
"""
from typing import Sequence

import numpy as np

from envs.sokoban import env as env_lib
from envs.sokoban import level as level_lib
from envs.sokoban import render

NUM_PLANES = 4  # wall, target, box, player.
# Cell code -> its 4 plane bits: float32 [NUM_CELL_TYPES, 4].
_PLANES_OF_CELL = np.zeros((level_lib.NUM_CELL_TYPES, NUM_PLANES), np.float32)
_PLANES_OF_CELL[level_lib.WALL, 0] = 1
_PLANES_OF_CELL[[level_lib.TARGET, level_lib.BOX_ON_TARGET, level_lib.PLAYER_ON_TARGET], 1] = 1
_PLANES_OF_CELL[[level_lib.BOX, level_lib.BOX_ON_TARGET], 2] = 1
_PLANES_OF_CELL[[level_lib.PLAYER, level_lib.PLAYER_ON_TARGET], 3] = 1
_PLANES_OF_CELL.setflags(write=False)


def level_planes(levels: np.ndarray) -> np.ndarray:
  """float32 [..., H, W, 4] wall/target/box/player planes of uint8 [..., H, W] levels."""
  return _PLANES_OF_CELL[np.asarray(levels)]


def state_planes(states: Sequence[env_lib.SokobanState], height: int, width: int) -> np.ndarray:
  """float32 [N, height, width, 4]: the planes of N simulator snapshots of `height` x `width` rooms."""
  cells = np.array([s.cells for s in states], np.uint8).reshape(len(states), height + 2, width + 2)
  return level_planes(cells[:, 1:-1, 1:-1])


def level_from_frame(frame: np.ndarray, pixels_per_cell: int) -> np.ndarray:
  """Reads a level back from a rendered Sokoban frame.

  Every sprite shows its cell's key colour at its centre pixel (`envs.sokoban.render`), so the centre
  pixels alone give the cell codes.

  Args:
    frame: uint8 [H * ppc, W * ppc, 3] (as the environment renders), or float in [0, 1].
    pixels_per_cell: the sprite side ppc.

  Returns:
    uint8 [H, W] cell codes.

  Raises:
    ValueError: the frame's size is not a multiple of ppc, or a centre pixel is not a key colour.
  """
  frame = np.asarray(frame)
  if np.issubdtype(frame.dtype, np.floating):
    frame = np.round(frame * 255.0).astype(np.uint8)
  ppc = pixels_per_cell
  if frame.ndim != 3 or frame.shape[2] != 3 or frame.shape[0] % ppc or frame.shape[1] % ppc:
    raise ValueError(f"frame must be [H * {ppc}, W * {ppc}, 3], got shape {frame.shape}")
  centres = frame[ppc // 2::ppc, ppc // 2::ppc]  # [H, W, 3]
  matches = np.all(centres[..., None, :] == render.PALETTE[render.KEY_COLOUR_OF_CELL], axis=-1)
  if not matches.any(axis=-1).all():
    raise ValueError("frame is not a Sokoban rendering: a cell centre is not a cell's key colour")
  return matches.argmax(axis=-1).astype(np.uint8)
