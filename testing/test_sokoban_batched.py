"""Tests of BatchedSokoban: the same episodes as N single environments, auto-reset, shapes, errors."""
import importlib.util

import dm_env
import numpy as np
import pytest

from envs import batched as batched_lib
from envs.sokoban import level as level_lib
from envs.sokoban.batched import BatchedSokoban
from envs.sokoban.env import Sokoban
from testing.sokoban_levels import lvl, open_room_four_boxes


# 1-box levels that random play often solves, so episodes end both ways; the last two have no wall
# on their bottom row (the environment walls levels in itself).
POOL = [lvl("#####", "#@$.#", "#   #", "#####"), lvl("#####", "# @ #", "# $ #", "# . #"),
        lvl("#####", "#.  #", "#$ @#", "#   #")]
KWARGS = dict(width=5, height=4, num_boxes=1, levels=POOL, max_steps=7)


def _single_as_batched(timestep: dm_env.TimeStep):
  """The batched convention for one single-env timestep: FIRST has reward 0 and discount 1."""
  reward = 0.0 if timestep.reward is None else timestep.reward
  discount = 1.0 if timestep.discount is None else timestep.discount
  return int(timestep.step_type), np.float32(reward), np.float32(discount)


@pytest.mark.parametrize("observation", ["rgb", "symbolic", "both"])
def test_batched_equals_single_envs_with_matching_seeds(observation):
  num_envs, seed = 5, 11
  batched = BatchedSokoban(num_envs, observation=observation, seed=seed, pixels_per_cell=3, **KWARGS)
  singles = [Sokoban(observation=observation, seed=seed + i, pixels_per_cell=3, **KWARGS)
             for i in range(num_envs)]
  rng = np.random.default_rng(0)
  counts = {"first": 0, "solved": 0, "timeout": 0}
  for t in range(150):
    actions = rng.integers(0, 5, num_envs)
    if t == 0:
      got, want = batched.reset(), [env.reset() for env in singles]
    else:
      got, want = batched.step(actions), [env.step(a) for env, a in zip(singles, actions)]
    assert isinstance(got, batched_lib.BatchedTimeStep)
    assert got.step_type.dtype == np.int32 and got.reward.dtype == np.float32
    assert got.discount.dtype == np.float32
    for i, single in enumerate(want):
      assert (got.step_type[i], got.reward[i], got.discount[i]) == _single_as_batched(single)
      assert set(got.observation) == set(single.observation)
      for key, value in single.observation.items():
        np.testing.assert_array_equal(got.observation[key][i], value)
      np.testing.assert_array_equal(batched.current_levels()[i], singles[i].current_level())
      counts["first"] += single.first()
      counts["solved"] += single.last() and single.discount == 0
      counts["timeout"] += single.last() and single.discount == 1
  assert all(count > 3 for count in counts.values()), counts  # Every kind of step was compared.


def test_reset_shapes_and_first_step_values():
  level = open_room_four_boxes()
  env = BatchedSokoban(3, levels=[level], observation="both", seed=0)
  assert env.num_envs == 3 and env.num_actions == 5
  timestep = env.reset()
  np.testing.assert_array_equal(timestep.step_type, [dm_env.StepType.FIRST] * 3)
  np.testing.assert_array_equal(timestep.reward, np.zeros(3, np.float32))
  np.testing.assert_array_equal(timestep.discount, np.ones(3, np.float32))
  assert timestep.observation["rgb"].shape == (3, 80, 80, 3)
  assert timestep.observation["rgb"].dtype == np.uint8
  assert timestep.observation["symbolic"].shape == (3, 10, 10, 7)
  spec = env.observation_spec()
  assert spec["rgb"].shape == (80, 80, 3) and spec["symbolic"].shape == (10, 10, 7)


def test_step_before_reset_resets_every_copy():
  env = BatchedSokoban(2, seed=0, **KWARGS)
  timestep = env.step(np.array([4, 4]))
  np.testing.assert_array_equal(timestep.step_type, [dm_env.StepType.FIRST] * 2)
  assert np.isin(env.current_levels(), (level_lib.PLAYER, level_lib.PLAYER_ON_TARGET)).sum() == 2


def test_auto_reset_only_in_finished_copies():
  solvable = lvl("#####", "#@$.#", "#####")
  env = BatchedSokoban(2, width=5, height=3, num_boxes=1, levels=[solvable], seed=0)
  env.reset()
  solved = env.step(np.array([4, 0]))  # Copy 0 solves, copy 1 waits.
  np.testing.assert_array_equal(solved.step_type, [dm_env.StepType.LAST, dm_env.StepType.MID])
  np.testing.assert_array_equal(solved.discount, [0.0, 1.0])
  np.testing.assert_array_equal(solved.reward, np.float32([10.9, -0.1]))
  after = env.step(np.array([4, 4]))  # Copy 0 ignores its action and restarts; copy 1 solves.
  np.testing.assert_array_equal(after.step_type, [dm_env.StepType.FIRST, dm_env.StepType.LAST])
  np.testing.assert_array_equal(after.reward, np.float32([0.0, 10.9]))
  np.testing.assert_array_equal(env.current_levels()[0], solvable)


def test_observations_are_copies():
  env = BatchedSokoban(2, seed=0, **KWARGS)
  first = env.reset().observation["rgb"]
  kept = first.copy()
  for _ in range(5):
    env.step(np.array([4, 2]))
  np.testing.assert_array_equal(first, kept)


BAD_ACTIONS = {"shape": (np.array([1, 2, 3]), "shape"), "float": (np.array([1.0, 2.0]), "integers"),
               "range": (np.array([0, 5]), r"in \[0, 5\)"), "negative": (np.array([-1, 0]), r"in \[0, 5\)")}


@pytest.mark.parametrize("actions,message", BAD_ACTIONS.values(), ids=BAD_ACTIONS.keys())
def test_bad_actions_raise(actions, message):
  env = BatchedSokoban(2, seed=0, **KWARGS)
  env.reset()
  with pytest.raises(ValueError, match=message):
    env.step(actions)


@pytest.mark.parametrize("num_envs", [0, -2, 1.5, True], ids=["zero", "negative", "float", "bool"])
def test_bad_num_envs_raise(num_envs):
  with pytest.raises(ValueError, match="num_envs"):
    BatchedSokoban(num_envs, **KWARGS)


def test_bad_config_raises():
  with pytest.raises(ValueError, match="observation must be one of"):
    BatchedSokoban(2, observation="pixels", **KWARGS)


@pytest.mark.skipif(importlib.util.find_spec("envs.sokoban.generator") is None,
                    reason="envs.sokoban.generator is not written yet")
def test_generated_levels_match_single_envs():
  env = BatchedSokoban(2, seed=7)
  env.reset()
  for i in range(2):
    single = Sokoban(seed=7 + i)
    single.reset()
    np.testing.assert_array_equal(env.current_levels()[i], single.current_level())
