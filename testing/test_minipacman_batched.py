"""BatchedMiniPacman: the same episodes as N single environments with derived seeds."""
import dm_env
import numpy as np
import pytest

from envs import batched
from envs.minipacman import BatchedMiniPacman
from envs.minipacman import derived_seeds
from envs.minipacman import MiniPacman


def test_derived_seeds_are_the_spawned_children():
  children = np.random.SeedSequence(11).spawn(3)
  for mine, expected in zip(derived_seeds(11, 3), children):
    assert mine.entropy == expected.entropy and mine.spawn_key == expected.spawn_key
  root = np.random.SeedSequence(11)
  assert [s.spawn_key for s in derived_seeds(root, 2)] == [s.spawn_key for s in derived_seeds(root, 2)]


@pytest.mark.parametrize("task", ["regular", "hunt", "rush"])
def test_batched_equals_single_envs(task):
  num_envs, steps, frame_cap = 4, 400, 60
  env = BatchedMiniPacman(num_envs, task=task, seed=7, frame_cap=frame_cap)
  assert isinstance(env, batched.BatchedEnvironment)
  assert env.num_envs == num_envs and env.num_actions == 5
  singles = [MiniPacman(task=task, seed=s, frame_cap=frame_cap) for s in derived_seeds(7, num_envs)]
  actions = np.random.default_rng(0).integers(0, 5, (steps, num_envs))
  bts = env.reset()
  sts = [s.reset() for s in singles]
  ends = 0
  for t in range(steps + 1):
    assert bts.step_type.dtype == np.int32 and bts.reward.dtype == np.float32
    assert bts.discount.dtype == np.float32
    assert bts.observation["rgb"].shape == (num_envs, 15, 19, 3)
    assert bts.observation["rgb"].dtype == np.uint8
    assert bts.observation["events"].shape == (num_envs, 5)
    assert bts.observation["events"].dtype == np.float32
    for i, ts in enumerate(sts):
      assert bts.step_type[i] == int(ts.step_type)
      assert bts.reward[i] == (0.0 if ts.first() else ts.reward)
      assert bts.discount[i] == (1.0 if ts.first() else ts.discount)
      np.testing.assert_array_equal(bts.observation["rgb"][i], ts.observation["rgb"])
      np.testing.assert_array_equal(bts.observation["events"][i], ts.observation["events"])
    ends += int((bts.step_type == dm_env.StepType.LAST).sum())
    if t < steps:
      bts = env.step(actions[t])
      sts = [s.step(int(a)) for s, a in zip(singles, actions[t])]
  assert ends >= num_envs  # Deaths and frame-cap ends were both exercised.


def test_reset_is_first_everywhere_and_observations_are_copies():
  env = BatchedMiniPacman(3, seed=1)
  ts = env.reset()
  np.testing.assert_array_equal(ts.step_type, [0, 0, 0])
  np.testing.assert_array_equal(ts.reward, [0, 0, 0])
  np.testing.assert_array_equal(ts.discount, [1, 1, 1])
  np.testing.assert_array_equal(ts.observation["events"], np.zeros((3, 5)))
  rgb = ts.observation["rgb"]
  rgb[:] = 9
  assert not (env.step(np.zeros(3, np.int64)).observation["rgb"] == 9).all()


@pytest.mark.parametrize("actions, message", [
    pytest.param(np.zeros(2, np.int32), "int \\[3\\]", id="shape"),
    pytest.param(np.zeros(3, np.float32), "int \\[3\\]", id="dtype"),
    pytest.param(np.array([0, 5, 1]), "must be in", id="range"),
])
def test_bad_actions_raise(actions, message):
  env = BatchedMiniPacman(3, seed=1)
  env.reset()
  with pytest.raises(ValueError, match=message):
    env.step(actions)


@pytest.mark.parametrize("num_envs", [0, -2, 1.5])
def test_bad_num_envs_raise(num_envs):
  with pytest.raises(ValueError, match="num_envs"):
    BatchedMiniPacman(num_envs)
