"""Tests of the single Sokoban dm_env environment: rules, rewards, episode ends, observations, seeding."""
import importlib.util
import unittest

import dm_env
from dm_env import test_utils
import numpy as np
import pytest

from envs.sokoban import level as level_lib
from envs.sokoban import render
from envs.sokoban.env import Sokoban
from testing.sokoban_levels import lvl, open_room_four_boxes


NOOP, UP, DOWN, LEFT, RIGHT = range(5)
# The box in row 1 is stuck in its corner and keeps these 2-box levels from being solved by accident.
RULE_CASES = {
    "walk": (["#######", "#$#.###", "# @ $.#", "#######"], RIGHT,
             ["#######", "#$#.###", "#  @$.#", "#######"], -0.1),
    "noop": (["#######", "#$#.###", "# @ $.#", "#######"], NOOP,
             ["#######", "#$#.###", "# @ $.#", "#######"], -0.1),
    "walk_into_wall": (["#######", "#$#.###", "# @ $.#", "#######"], UP,
                       ["#######", "#$#.###", "# @ $.#", "#######"], -0.1),
    "push_onto_floor": (["#######", "#$#.###", "# @$ .#", "#######"], RIGHT,
                        ["#######", "#$#.###", "#  @$.#", "#######"], -0.1),
    "push_onto_target": (["#######", "#$#.###", "#  @$.#", "#######"], RIGHT,
                         ["#######", "#$#.###", "#   @*#", "#######"], -0.1 + 1.0),
    "push_off_target": (["#######", "#$#.###", "# @*  #", "#######"], RIGHT,
                        ["#######", "#$#.###", "#  +$ #", "#######"], -0.1 - 1.0),
    "push_target_to_target": (["#######", "#$#####", "# @*. #", "#######"], RIGHT,
                              ["#######", "#$#####", "#  +* #", "#######"], -0.1),
    "push_into_wall": (["#######", "#$#.###", "#.  @$#", "#######"], RIGHT,
                       ["#######", "#$#.###", "#.  @$#", "#######"], -0.1),
    "push_into_box": (["#######", "#.#####", "# @$$.#", "#######"], RIGHT,
                      ["#######", "#.#####", "# @$$.#", "#######"], -0.1),
    "no_pull": (["#######", "#$#.###", "# $@ .#", "#######"], RIGHT,
                ["#######", "#$#.###", "# $ @.#", "#######"], -0.1),
    "leave_target": (["#######", "#$#$###", "# +  .#", "#######"], RIGHT,
                     ["#######", "#$#$###", "# .@ .#", "#######"], -0.1),
    "push_left": (["#######", "#$#.###", "#. $@ #", "#######"], LEFT,
                  ["#######", "#$#.###", "#.$@  #", "#######"], -0.1),
    "push_down": (["#####", "# @ #", "# $ #", "#   #", "#$#.#", "#.###", "#####"], DOWN,
                  ["#####", "#   #", "# @ #", "# $ #", "#$#.#", "#.###", "#####"], -0.1),
}
SOLVE_CASES = {
    "right": (["#######", "#*    #", "#  @$.#", "#######"], RIGHT,
              ["#######", "#*    #", "#   @*#", "#######"]),
    "up": (["#####", "# . #", "# $ #", "# @ #", "#####"], UP,
           ["#####", "# * #", "# @ #", "#   #", "#####"]),
    "left": (["######", "#.$@ #", "######"], LEFT, ["######", "#*@  #", "######"]),
}


def make_env(rows, num_boxes=None, **kwargs):
  level = lvl(*rows)
  if num_boxes is None:
    num_boxes = int(np.isin(level, (level_lib.BOX, level_lib.BOX_ON_TARGET)).sum())
  height, width = level.shape
  return Sokoban(width=width, height=height, num_boxes=num_boxes, levels=[level], **kwargs)


@pytest.mark.parametrize("before,action,after,reward", RULE_CASES.values(), ids=RULE_CASES.keys())
def test_rules_and_rewards(before, action, after, reward):
  env = make_env(before)
  first = env.reset()
  assert first.step_type == dm_env.StepType.FIRST and first.reward is None and first.discount is None
  timestep = env.step(action)
  np.testing.assert_array_equal(env.current_level(), lvl(*after))
  assert timestep.step_type == dm_env.StepType.MID
  assert timestep.reward.dtype == np.float32 and timestep.reward == np.float32(reward)
  assert timestep.discount == 1.0


@pytest.mark.parametrize("before,action,after", SOLVE_CASES.values(), ids=SOLVE_CASES.keys())
def test_solving_ends_with_discount_zero_and_reward_10_9(before, action, after):
  env = make_env(before)
  env.reset()
  timestep = env.step(action)
  np.testing.assert_array_equal(env.current_level(), lvl(*after))
  assert timestep.step_type == dm_env.StepType.LAST
  assert timestep.reward == np.float32(10.9)  # -0.1 + 1 + 10, the sum convention.
  assert timestep.discount == 0.0
  again = env.step(NOOP)  # The step after LAST starts a new episode on the (only) level.
  assert again.step_type == dm_env.StepType.FIRST and again.reward is None
  np.testing.assert_array_equal(env.current_level(), lvl(*before))


def test_time_limit_ends_with_discount_one():
  env = make_env(RULE_CASES["walk"][0], max_steps=3)
  env.reset()
  types = [env.step(NOOP) for _ in range(3)]
  assert [t.step_type for t in types] == [dm_env.StepType.MID] * 2 + [dm_env.StepType.LAST]
  assert types[-1].discount == 1.0 and types[-1].reward == np.float32(-0.1)
  assert env.step(NOOP).step_type == dm_env.StepType.FIRST


def test_solving_on_the_last_allowed_step_is_terminal():
  env = make_env(SOLVE_CASES["right"][0], max_steps=2)
  env.reset()
  assert env.step(NOOP).step_type == dm_env.StepType.MID
  timestep = env.step(RIGHT)
  assert timestep.step_type == dm_env.StepType.LAST and timestep.discount == 0.0


def test_step_on_fresh_env_resets_and_ignores_action():
  env = make_env(SOLVE_CASES["right"][0])
  assert env.step(RIGHT).step_type == dm_env.StepType.FIRST
  np.testing.assert_array_equal(env.current_level(), lvl(*SOLVE_CASES["right"][0]))


@pytest.mark.parametrize("action", [-1, 5, 7], ids=["negative", "five", "seven"])
def test_bad_action_raises(action):
  env = make_env(RULE_CASES["walk"][0])
  env.reset()
  with pytest.raises(ValueError, match="action must be in"):
    env.step(action)


@pytest.mark.parametrize("observation,keys", [("rgb", {"rgb"}), ("symbolic", {"symbolic"}),
                                              ("both", {"rgb", "symbolic"})],
                         ids=["rgb", "symbolic", "both"])
def test_observations_match_spec_and_state(observation, keys):
  env = make_env(RULE_CASES["push_onto_floor"][0], observation=observation, pixels_per_cell=5)
  rng = np.random.default_rng(0)
  timestep = env.reset()
  for _ in range(40):
    obs = timestep.observation
    assert set(obs) == keys == set(env.observation_spec())
    for key, spec in env.observation_spec().items():
      assert spec.name == key
      spec.validate(obs[key])
    level = env.current_level()
    if "rgb" in keys:  # The incrementally drawn frame equals a full render of the current level.
      np.testing.assert_array_equal(obs["rgb"], render.render_level(level, 5))
    if "symbolic" in keys:
      for code in range(level_lib.NUM_CELL_TYPES):
        np.testing.assert_array_equal(obs["symbolic"][..., code], (level == code).astype(np.uint8))
    timestep = env.step(int(rng.integers(5)))


def test_default_rgb_shape_is_80x80x3():
  level = open_room_four_boxes()
  obs = Sokoban(levels=[level]).reset().observation
  assert obs["rgb"].shape == (80, 80, 3) and obs["rgb"].dtype == np.uint8


def test_returned_observation_is_a_copy():
  env = make_env(RULE_CASES["walk"][0])
  first = env.reset().observation["rgb"]
  kept = first.copy()
  env.step(RIGHT)
  np.testing.assert_array_equal(first, kept)


BAD_ARGS = {
    "narrow": (dict(width=2), "width and height"),
    "float_height": (dict(height=10.0), "height must be an int"),
    "no_boxes": (dict(num_boxes=0), "num_boxes"),
    "zero_steps": (dict(max_steps=0), "max_steps"),
    "observation": (dict(observation="grey"), "observation must be one of"),
    "ppc": (dict(pixels_per_cell=0), "pixels_per_cell"),
    "no_levels": (dict(levels=[]), "empty"),
    "level_shape": (dict(levels=[np.ones((9, 10), np.uint8)]), r"levels\[0\] has shape"),
    "cell_code": (dict(width=4, height=3, levels=[np.full((3, 4), 9, np.uint8)]), "cell code 9"),
    "two_players": (dict(width=5, height=3, num_boxes=1, levels=[lvl("#####", "#@$.@", "#####")]),
                    "2 players"),
    "boxes": (dict(width=5, height=3, num_boxes=2, levels=[lvl("#####", "#@$.#", "#####")]),
              "1 boxes, expected num_boxes=2"),
    "targets": (dict(width=5, height=3, num_boxes=1, levels=[lvl("#####", "#@$ #", "#####")]),
                "0 targets"),
    "solved": (dict(width=5, height=3, num_boxes=1, levels=[lvl("#####", "#@* #", "#####")]),
               "already solved"),
}


@pytest.mark.parametrize("kwargs,message", BAD_ARGS.values(), ids=BAD_ARGS.keys())
def test_bad_arguments_raise(kwargs, message):
  with pytest.raises(ValueError, match=message):
    Sokoban(**kwargs)


POOL = [lvl("#######", "#$#.###", "# @ $.#", "#######"), lvl("#######", "#$#.###", "# @$ .#", "#######"),
        lvl("#######", "#.#####", "# @$$.#", "#######"), lvl("#######", "#$#$###", "# +  .#", "#######")]


def _episode_starts(env, episodes):
  starts, rng = [], np.random.default_rng(1)
  for _ in range(episodes):
    env.reset()
    starts.append(env.current_level())
    for _ in range(3):
      env.step(int(rng.integers(5)))
  return np.stack(starts)


def test_same_seed_same_episodes_and_reseed():
  kwargs = dict(width=7, height=4, num_boxes=2, levels=POOL)
  first = _episode_starts(Sokoban(seed=5, **kwargs), 12)
  np.testing.assert_array_equal(first, _episode_starts(Sokoban(seed=5, **kwargs), 12))
  assert not np.array_equal(first, _episode_starts(Sokoban(seed=6, **kwargs), 12))
  env = Sokoban(seed=0, **kwargs)
  env.reseed(5)
  np.testing.assert_array_equal(first, _episode_starts(env, 12))
  assert len({s.tobytes() for s in first}) > 1  # Levels are drawn, not fixed.


@pytest.mark.skipif(importlib.util.find_spec("envs.sokoban.generator") is None,
                    reason="envs.sokoban.generator is not written yet")
def test_generated_levels_are_seeded_and_valid():
  a, b = Sokoban(seed=3, observation="both"), Sokoban(seed=3)
  for _ in range(2):
    obs = a.reset().observation
    b.reset()
    level = a.current_level()
    np.testing.assert_array_equal(level, b.current_level())
    assert level.shape == (10, 10)
    assert np.isin(level, (level_lib.BOX, level_lib.BOX_ON_TARGET)).sum() == 4
    np.testing.assert_array_equal(obs["rgb"], render.render_level(level))


class SokobanEnvironmentTest(test_utils.EnvironmentTestMixin, unittest.TestCase):
  """dm_env's own contract checks, with an action sequence that solves and one that times out."""

  def make_object_under_test(self):
    return make_env(SOLVE_CASES["right"][0], observation="both", max_steps=4)

  def make_action_sequence(self):
    yield from [RIGHT, NOOP] + [LEFT, LEFT, UP, DOWN, NOOP] * 3


def test_package_exports():
  import envs.sokoban as sokoban  # pylint: disable=g-import-not-at-top
  assert sokoban.Sokoban is Sokoban and sokoban.PALETTE is render.PALETTE
  assert (sokoban.WALL, sokoban.PLAYER_ON_TARGET, sokoban.NUM_CELL_TYPES) == (0, 6, 7)
  with pytest.raises(AttributeError, match="no attribute"):
    getattr(sokoban, "not_a_name")


@pytest.mark.skipif(importlib.util.find_spec("envs.sokoban.boxoban") is None,
                    reason="envs.sokoban.boxoban is not written yet")
def test_plays_levels_from_a_boxoban_file(tmp_path):
  import envs.sokoban as sokoban  # pylint: disable=g-import-not-at-top
  rows = SOLVE_CASES["right"][0]
  (tmp_path / "000.txt").write_text("; 0\n" + "\n".join(rows) + "\n\n; 1\n" + "\n".join(rows) + "\n")
  env = Sokoban(width=7, height=4, num_boxes=2, levels=sokoban.load_levels(str(tmp_path / "*.txt")))
  env.reset()
  assert env.step(RIGHT).reward == np.float32(10.9)


def test_reset_to_level_checks_and_starts_the_given_level():
  env = make_env(RULE_CASES["walk"][0])
  other = lvl(*RULE_CASES["push_onto_target"][0])
  first = env.reset_to_level(other)
  assert first.first()
  np.testing.assert_array_equal(env.current_level(), other)
  assert env.step(RIGHT).reward == np.float32(0.9)
  with pytest.raises(ValueError, match=r"level\[0\] has 0 boxes"):
    env.reset_to_level(lvl("#######", "#.#.###", "# @   #", "#######"))


@pytest.mark.parametrize("size,boxes", [(4, 1), (3, 1), (6, 8)], ids=["4x4", "3x3", "8_boxes"])
def test_a_room_the_generator_cannot_fill_is_refused_at_construction(size, boxes):
  from envs import sokoban  # pylint: disable=g-import-not-at-top,redefined-outer-name,reimported
  from i2a import games  # pylint: disable=g-import-not-at-top
  from i2a.training import environments  # pylint: disable=g-import-not-at-top
  for make in (lambda: sokoban.Sokoban(width=size, height=size, num_boxes=boxes),
               lambda: sokoban.BatchedSokoban(2, width=size, height=size, num_boxes=boxes),
               lambda: environments.EnvConfig(num_boxes=boxes).check(games.Geometry("sokoban", room_size=size))):
    with pytest.raises(ValueError, match=f"Cannot generate {size}x{size} Sokoban levels|do not fit"):
      make()


@pytest.mark.parametrize("action", [1.0, 2.7, "1", True, np.array([1]), np.float32(1)],
                         ids=["float", "fraction", "string", "bool", "array", "np_float"])
def test_a_single_env_refuses_non_integer_actions_like_the_batched_one(action):
  from envs import minipacman  # pylint: disable=g-import-not-at-top
  from envs import sokoban  # pylint: disable=g-import-not-at-top,redefined-outer-name,reimported
  for env in (sokoban.Sokoban(width=5, height=5, num_boxes=1, seed=0), minipacman.MiniPacman(seed=0)):
    env.reset()
    with pytest.raises(ValueError, match="and one integer"):
      env.step(action)
    for ok in (1, np.int64(1), np.array(1, np.int32)):
      assert env.step(ok).step_type in (1, 2)
