"""Tests of the Sokoban sprites: palette-only pixels, distinct kinds at every size, exact placement."""
import numpy as np
import pytest

from envs.sokoban import level as level_lib
from envs.sokoban import render
from envs.sokoban.env import Sokoban

KINDS = {"wall": level_lib.WALL, "floor": level_lib.FLOOR, "target": level_lib.TARGET,
         "box": level_lib.BOX, "box_on_target": level_lib.BOX_ON_TARGET, "player": level_lib.PLAYER,
         "player_on_target": level_lib.PLAYER_ON_TARGET}
SIZES = {"ppc1": 1, "ppc2": 2, "ppc3": 3, "ppc4": 4, "ppc8": 8, "ppc16": 16}


def _in_palette(pixels: np.ndarray) -> bool:
  return bool(np.all(np.any(np.all(pixels.reshape(-1, 1, 3) == render.PALETTE, axis=-1), axis=-1)))


def test_palette_is_small_distinct_uint8():
  assert render.PALETTE.dtype == np.uint8 and render.PALETTE.ndim == 2
  assert render.PALETTE.shape[0] <= 8 and render.PALETTE.shape[1] == 3
  assert len({tuple(c) for c in render.PALETTE}) == render.PALETTE.shape[0]


@pytest.mark.parametrize("ppc", SIZES.values(), ids=SIZES.keys())
def test_sprites_distinct_in_palette_with_distinct_centres(ppc):
  sprites = render.sprite_rgb(ppc)
  assert sprites.shape == (level_lib.NUM_CELL_TYPES, ppc, ppc, 3) and sprites.dtype == np.uint8
  assert _in_palette(sprites)
  assert len({s.tobytes() for s in sprites}) == level_lib.NUM_CELL_TYPES
  centres = sprites[:, ppc // 2, ppc // 2]
  np.testing.assert_array_equal(centres, render.PALETTE[render.KEY_COLOUR_OF_CELL])
  assert len({tuple(c) for c in centres}) == level_lib.NUM_CELL_TYPES
  means = sprites.reshape(level_lib.NUM_CELL_TYPES, -1, 3).mean(axis=1)
  assert len({tuple(m) for m in np.round(means, 6)}) == level_lib.NUM_CELL_TYPES


def test_one_pixel_per_cell_gives_seven_colours():
  level = np.arange(level_lib.NUM_CELL_TYPES, dtype=np.uint8)[None]
  frame = render.render_level(level, 1)
  assert frame.shape == (1, level_lib.NUM_CELL_TYPES, 3)
  assert len({tuple(p) for p in frame[0]}) == level_lib.NUM_CELL_TYPES


# Hand-drawn 8x8 palette-index art (0 wall, 1 floor, 2 target, 3 box, 7 detail), written from the design.
TARGET_ART = ["11111111", "12222221", "12111121", "12122121", "12122121", "12111121", "12222221", "11111111"]
BOX_ART = ["77777777", "77333377", "73733737", "73333337", "73333337", "73733737", "77333377", "77777777"]
WALL_ART = ["00000007", "00000007", "00000007", "77777777", "00070000", "00070000", "00070000", "77777777"]


@pytest.mark.parametrize("code,art", [(level_lib.TARGET, TARGET_ART), (level_lib.BOX, BOX_ART),
                                      (level_lib.WALL, WALL_ART)], ids=["target", "box", "wall"])
def test_eight_pixel_sprites_match_hand_drawn_art(code, art):
  expected = np.array([[int(ch) for ch in row] for row in art])
  np.testing.assert_array_equal(render.sprite_indices(8)[code], expected)


@pytest.mark.parametrize("code", KINDS.values(), ids=KINDS.keys())
def test_each_cell_kind_drawn_at_its_place(code):
  level = np.full((4, 5), level_lib.FLOOR, np.uint8)
  level[2, 3] = code
  frame = render.render_level(level, 8)
  assert frame.shape == (32, 40, 3) and _in_palette(frame)
  np.testing.assert_array_equal(frame[16:24, 24:32], render.PALETTE[render.sprite_indices(8)[code]])
  rest = frame.copy()
  rest[16:24, 24:32] = render.PALETTE[level_lib.FLOOR]
  np.testing.assert_array_equal(rest, np.broadcast_to(render.PALETTE[level_lib.FLOOR], rest.shape))


def test_env_frames_stay_in_palette_and_round_trip_indices():
  level = level_lib.from_text(["#######", "#  .  #", "# $*@ #", "# +  ##", "#  $  #", "#######"])
  level[3, 2] = level_lib.TARGET  # The text above has two players; keep one.
  env = Sokoban(width=7, height=6, num_boxes=3, levels=[level], seed=0)
  rng = np.random.default_rng(0)
  frame = env.reset().observation["rgb"]
  for _ in range(60):
    assert _in_palette(frame)
    indices = render.palette_indices(frame)
    np.testing.assert_array_equal(render.PALETTE[indices], frame)
    frame = env.step(int(rng.integers(5))).observation["rgb"]


def test_palette_indices_rejects_other_colours():
  frame = render.render_level(np.array([[level_lib.WALL]], np.uint8), 8)
  frame[0, 0] = (1, 2, 3)
  with pytest.raises(ValueError, match="not a PALETTE colour"):
    render.palette_indices(frame)


def test_symbolic_level_one_hot():
  level = np.arange(level_lib.NUM_CELL_TYPES, dtype=np.uint8).reshape(1, -1)
  np.testing.assert_array_equal(render.symbolic_level(level)[0], np.eye(level_lib.NUM_CELL_TYPES))
