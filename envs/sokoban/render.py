"""Sokoban sprites drawn from a small colour palette, and whole-level rendering.

The paper renders each of the 10x10 cells as an 8x8-pixel sprite (80x80x3 frames; I2A paper Sec. 4) but
does not give the sprite art (App. D gives no palette), so the art here is our own. Every
pixel of every frame is exactly one of the `PALETTE` colours, so a learned environment model can predict a
categorical distribution over the palette per pixel (WORKSPACE.md, deviation 7).

Sprites are drawn procedurally from normalised cell coordinates, so they stay distinct at any
`pixels_per_cell`; each cell kind has its own key colour at the sprite centre, so even 1 pixel per cell
gives 7 distinct colours.
"""
import functools

import numpy as np

from envs.sokoban import level as level_lib

# Palette indices. The first seven are the key (centre) colours of the cell kinds, in cell-code order;
# the last one is a dark detail colour (wall mortar, box edges).
_WALL_C, _FLOOR_C, _TARGET_C, _BOX_C, _BOX_ON_TARGET_C, _PLAYER_C, _PLAYER_ON_TARGET_C, _DETAIL_C = range(8)

PALETTE = np.array([
    [150, 150, 150],  # wall: grey (dark mortar lines)
    [0, 0, 0],        # floor: black
    [230, 60, 60],    # target: red bullseye on the floor
    [210, 160, 40],   # box: amber crate (dark edge)
    [70, 200, 70],    # box on target: green crate (dark edge)
    [70, 130, 255],   # player: blue figure
    [220, 90, 255],   # player on target: magenta figure (on the red bullseye)
    [60, 40, 20],     # detail: dark brown
], dtype=np.uint8)
PALETTE.setflags(write=False)
NUM_COLOURS = PALETTE.shape[0]

# The palette index at the centre of each cell kind's sprite: the cell code itself.
KEY_COLOUR_OF_CELL = np.arange(level_lib.NUM_CELL_TYPES, dtype=np.uint8)
KEY_COLOUR_OF_CELL.setflags(write=False)


def _coordinates(ppc: int) -> tuple[np.ndarray, np.ndarray]:
  """Pixel-centre coordinates in [-0.5, 0.5): rows u [ppc, 1] and columns v [1, ppc], float64."""
  centres = (np.arange(ppc) + 0.5) / ppc - 0.5
  return centres[:, None], centres[None, :]


def _bullseye(u: np.ndarray, v: np.ndarray) -> np.ndarray:
  """bool [ppc, ppc]: a centre square and a ring around it (the target mark)."""
  r = np.maximum(np.abs(u), np.abs(v))
  return (r < 0.125) | ((r >= 0.25) & (r < 0.375))


def _crate_edge(u: np.ndarray, v: np.ndarray, ppc: int) -> np.ndarray:
  """bool [ppc, ppc]: the outer ring (from 3 pixels per cell) and diagonals (from 6) of a crate."""
  if ppc < 3:
    return np.zeros((ppc, ppc), bool)
  r = np.maximum(np.abs(u), np.abs(v))
  diagonal = (np.abs(np.abs(u) - np.abs(v)) < 0.5 / ppc) & (r >= 0.125) & (ppc >= 6)
  return (r >= 0.5 - 1.0 / ppc) | diagonal


def _figure(u: np.ndarray, v: np.ndarray) -> np.ndarray:
  """bool [ppc, ppc]: a little person (head, body, arms, legs); it covers the centre."""
  head = (u + 0.3) ** 2 + v ** 2 < 0.16 ** 2
  body = (np.abs(v) < 0.13) & (u > -0.2) & (u < 0.15)
  arms = (np.abs(v) < 0.38) & (u > -0.1) & (u < 0.02)
  legs = (np.abs(np.abs(v) - 0.16) < 0.09) & (u >= 0.15) & (u < 0.45)
  return head | body | arms | legs


def _mortar(ppc: int) -> np.ndarray:
  """bool [ppc, ppc]: brick mortar lines (staggered bricks; none below 6 pixels per cell)."""
  mask = np.zeros((ppc, ppc), bool)
  if ppc < 6:
    return mask
  half = ppc // 2
  mask[half - 1, :] = True
  mask[ppc - 1, :] = True
  mask[:half - 1, ppc - 1] = True
  mask[half:ppc - 1, half - 1] = True
  return mask


@functools.lru_cache(maxsize=16)
def sprite_indices(pixels_per_cell: int) -> np.ndarray:
  """Palette indices of every cell kind's sprite.

  Args:
    pixels_per_cell: sprite side in pixels, >= 1.

  Returns:
    uint8 [NUM_CELL_TYPES, ppc, ppc] (read-only), indices into `PALETTE`; sprite k draws cell code k.
  """
  if pixels_per_cell < 1:
    raise ValueError(f"pixels_per_cell must be >= 1, got {pixels_per_cell}")
  ppc = pixels_per_cell
  u, v = _coordinates(ppc)
  floor = np.full((ppc, ppc), _FLOOR_C, np.uint8)
  target = np.where(_bullseye(u, v), _TARGET_C, _FLOOR_C).astype(np.uint8)
  sprites = np.empty((level_lib.NUM_CELL_TYPES, ppc, ppc), np.uint8)
  sprites[level_lib.FLOOR] = floor
  sprites[level_lib.WALL] = np.where(_mortar(ppc), _DETAIL_C, _WALL_C)
  sprites[level_lib.TARGET] = target
  edge = _crate_edge(u, v, ppc)
  sprites[level_lib.BOX] = np.where(edge, _DETAIL_C, _BOX_C)
  sprites[level_lib.BOX_ON_TARGET] = np.where(edge, _DETAIL_C, _BOX_ON_TARGET_C)
  figure = _figure(u, v)
  sprites[level_lib.PLAYER] = np.where(figure, _PLAYER_C, floor)
  sprites[level_lib.PLAYER_ON_TARGET] = np.where(figure, _PLAYER_ON_TARGET_C, target)
  # Every kind shows its own key colour at the centre, so kinds differ at any size (even 1 pixel).
  sprites[:, ppc // 2, ppc // 2] = KEY_COLOUR_OF_CELL
  sprites.setflags(write=False)
  return sprites


@functools.lru_cache(maxsize=16)
def sprite_rgb(pixels_per_cell: int) -> np.ndarray:
  """uint8 [NUM_CELL_TYPES, ppc, ppc, 3] (read-only): the RGB sprite of every cell code."""
  sprites = PALETTE[sprite_indices(pixels_per_cell)]
  sprites.setflags(write=False)
  return sprites


def render_level(level: np.ndarray, pixels_per_cell: int = 8) -> np.ndarray:
  """Draws a whole level.

  Args:
    level: uint8 [H, W] cell codes (see `envs.sokoban.level`).
    pixels_per_cell: sprite side in pixels.

  Returns:
    uint8 [H * ppc, W * ppc, 3], a new array whose every pixel is a `PALETTE` colour.
  """
  level = np.asarray(level)
  if level.ndim != 2:
    raise ValueError(f"level must be 2-D [height, width], got shape {level.shape}")
  height, width = level.shape
  ppc = pixels_per_cell
  tiles = sprite_rgb(ppc)[level]  # [H, W, ppc, ppc, 3]
  return np.ascontiguousarray(tiles.transpose(0, 2, 1, 3, 4)).reshape(height * ppc, width * ppc, 3)


def symbolic_level(level: np.ndarray) -> np.ndarray:
  """uint8 [H, W, NUM_CELL_TYPES]: one-hot planes of a level's cell codes, planes in cell-code order."""
  return np.eye(level_lib.NUM_CELL_TYPES, dtype=np.uint8)[np.asarray(level)]


def palette_indices(frames: np.ndarray) -> np.ndarray:
  """Maps rendered pixels back to palette indices (e.g. class targets for an environment model).

  Args:
    frames: uint8 [..., 3] pixels, each exactly a `PALETTE` colour.

  Returns:
    uint8 [...], the palette index of each pixel.

  Raises:
    ValueError: if a pixel is not a palette colour.
  """
  frames = np.asarray(frames)
  if frames.shape[-1:] != (3,):
    raise ValueError(f"frames must end in an RGB axis of size 3, got shape {frames.shape}")
  matches = np.all(frames[..., None, :] == PALETTE, axis=-1)  # [..., P]
  if not matches.any(axis=-1).all():
    raise ValueError("frames hold a pixel that is not a PALETTE colour")
  return matches.argmax(axis=-1).astype(np.uint8)
