"""Tests of the App. D.4 Sokoban level generator: structure, solvability, determinism, RoomScore."""
import collections

import numpy as np
import pytest

from envs.sokoban import bitboard
from envs.sokoban import generator
from envs.sokoban import generator_topology
from envs.sokoban import level as level_lib
from envs.sokoban import reverse_play
from envs.sokoban import solver

W, F, T, B, BT, P, PT = range(7)  # The cell codes of level.py, spelled out.

SHAPES = {f"10x10_{n}_boxes": (10, 10, n) for n in range(1, 8)}
SHAPES.update({"7x7_2_boxes": (7, 7, 2), "13x8_3_boxes": (13, 8, 3), "8x12_5_boxes": (8, 12, 5)})


def _connected(floor: np.ndarray) -> bool:
  cells = {tuple(rc) for rc in np.argwhere(floor)}
  seen, queue = {min(cells)}, collections.deque([min(cells)])
  while queue:
    r, c = queue.popleft()
    for nxt in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
      if nxt in cells and nxt not in seen:
        seen.add(nxt)
        queue.append(nxt)
  return seen == cells


@pytest.mark.parametrize("width,height,num_boxes", SHAPES.values(), ids=SHAPES.keys())
def test_level_structure(width, height, num_boxes):
  rng = np.random.default_rng(num_boxes * 100 + width)
  for _ in range(3):
    level = generator.generate_level(rng, width=width, height=height, num_boxes=num_boxes)
    assert level.shape == (height, width) and level.dtype == np.uint8
    border = np.concatenate([level[0], level[-1], level[:, 0], level[:, -1]])
    assert (border == W).all()
    assert np.isin(level, (P, PT)).sum() == 1
    assert (level == B).sum() == num_boxes  # Every box starts off the targets (RoomScore > 0).
    assert (level == BT).sum() == 0
    assert np.isin(level, (T, PT)).sum() == num_boxes
    assert _connected(level != W)


def test_deterministic_given_seed():
  first = [generator.generate_level(np.random.default_rng(3)) for _ in range(2)]
  np.testing.assert_array_equal(first[0], first[1])
  rng_a, rng_b = np.random.default_rng(11), np.random.default_rng(11)
  for _ in range(3):
    np.testing.assert_array_equal(generator.generate_level(rng_a), generator.generate_level(rng_b))
  others = [generator.generate_level(np.random.default_rng(s)) for s in range(4)]
  assert len({o.tobytes() for o in others}) == 4


SOLVABLE = {"1_box": (1, 6), "2_boxes": (2, 6), "3_boxes": (3, 4), "4_boxes": (4, 4)}


@pytest.mark.parametrize("num_boxes,count", SOLVABLE.values(), ids=SOLVABLE.keys())
def test_generated_levels_are_solvable_within_the_pulls(num_boxes, count):
  rng = np.random.default_rng(num_boxes)
  for _ in range(count):
    info = generator.generate_level_with_info(rng, num_boxes=num_boxes)
    solution = solver.solve(info.level, max_states=200_000)
    assert solution is not None
    assert 1 <= solution.num_pushes <= info.num_pulls  # Reverse play's pulls replayed are a solution.
    assert solver.is_solved(solver.apply_moves(info.level, solution.moves))


def test_room_score_is_swaps_times_displacement():
  rng = np.random.default_rng(0)
  floor_grid = generator_topology.carve_room(rng, 10, 10, 30, 0.35)
  targets_rc, player_rc = generator_topology.place_targets_and_player(rng, floor_grid, 3)
  floor = sum(1 << int(i) for i in np.flatnonzero(floor_grid))
  targets = [r * 10 + c for r, c in targets_rc]
  board = bitboard.Board(10, 10, 0, floor, sum(1 << t for t in targets))
  result = reverse_play.reverse_play(board, targets, player_rc[0] * 10 + player_rc[1], 300, 500, 1)
  displacement = sum(abs(b // 10 - t // 10) + abs(b % 10 - t % 10)
                     for b, t in zip(result.boxes, targets))
  assert result.score == result.box_swaps * displacement
  assert result.box_swaps >= 3 and not set(result.boxes) & set(targets)


def test_reverse_play_finds_the_farthest_pull_in_a_corridor():
  # One box on the target in a 1-wide corridor, player right of it: it can only be pulled right,
  # to the cell before the player's last stand, so the best room has displacement 2 and 1 swap.
  level = level_lib.from_text(["########", "#  *@  #", "########"])
  board, player, _ = bitboard.parse_level(level)
  target = board.cell(1, 3)
  result = reverse_play.reverse_play(board, [target], player, max_depth=300, max_states=1000, seed=0)
  assert (result.score, result.boxes, result.player) == (2, (board.cell(1, 5),), board.cell(1, 6))
  assert (result.num_pulls, result.box_swaps, result.states_visited) == (2, 1, 3)


def test_carve_room_keeps_border_and_connects():
  rng = np.random.default_rng(5)
  for width, height in ((10, 10), (6, 15)):
    floor = generator_topology.carve_room(rng, width, height, 40, 0.35)
    assert floor.shape == (height, width)
    assert not (floor[0].any() or floor[-1].any() or floor[:, 0].any() or floor[:, -1].any())
    assert _connected(floor)


def test_low_scores_fall_back_to_the_best_room():
  config = generator.GeneratorConfig(min_score_factor=1e9, num_topologies=2, num_placements=3)
  info = generator.generate_level_with_info(np.random.default_rng(0), config=config)
  assert not info.met_threshold and info.attempts == 6 and info.room_score > 0
  assert (info.level == B).sum() == 4


def test_raises_when_every_attempt_scores_zero():
  config = generator.GeneratorConfig(max_states=1, num_topologies=2, num_placements=2)
  with pytest.raises(generator.GenerationError, match="after 4 placements in 2 rooms"):
    generator.generate_level(np.random.default_rng(0), config=config)


BAD_ARGS = {
    "zero_boxes": (dict(num_boxes=0), "num_boxes"),
    "eight_boxes": (dict(num_boxes=8), "num_boxes"),
    "narrow": (dict(width=4), "width"),
    "float_height": (dict(height=10.0), "height"),
}


@pytest.mark.parametrize("kwargs,name", BAD_ARGS.values(), ids=BAD_ARGS.keys())
def test_rejects_bad_arguments(kwargs, name):
  with pytest.raises(ValueError, match=name):
    generator.generate_level(np.random.default_rng(0), **kwargs)


BAD_CONFIGS = {
    "walk_length_factor": dict(walk_length_factor=0.0),
    "change_probability": dict(change_probability=1.5),
    "max_depth": dict(max_depth=0),
    "max_states": dict(max_states=2.5),
    "min_score_factor": dict(min_score_factor=-1.0),
    "num_placements": dict(num_placements=0),
}


@pytest.mark.parametrize("name", BAD_CONFIGS.keys())
def test_config_rejects_bad_values(name):
  with pytest.raises(ValueError, match=name):
    generator.GeneratorConfig(**BAD_CONFIGS[name])
