"""MiniPacman's dm_env contract: specs, validation, seeding and the dm_env conformance mixin."""
import unittest

import dm_env
from dm_env import test_utils
import numpy as np
import pytest

import envs.minipacman as minipacman
from envs.minipacman import env as env_lib


class MiniPacmanConformanceTest(test_utils.EnvironmentTestMixin, unittest.TestCase):
  """dm_env's own checks; a short frame cap and random play reach episode ends."""

  def make_object_under_test(self):
    return minipacman.MiniPacman(task="hunt", seed=0, frame_cap=30)

  def make_action_sequence(self):
    rng = np.random.default_rng(0)
    for _ in range(200):
      yield np.int32(rng.integers(5))


def _run(env, actions):
  """Every observation, reward, discount and step type of playing `actions` from a reset."""
  out = [env.reset()]
  out += [env.step(a) for a in actions]
  return out


def test_specs_match_observations():
  env = minipacman.MiniPacman(task="avoid", seed=0)
  spec = env.observation_spec()
  assert spec["rgb"].shape == (15, 19, 3) and spec["rgb"].dtype == np.uint8
  assert spec["events"].shape == (5,) and spec["events"].dtype == np.float32
  assert env.action_spec().num_values == minipacman.NUM_ACTIONS == 5
  ts = env.step(0)
  assert ts.step_type == dm_env.StepType.FIRST  # A fresh environment resets.
  ts = env.step(1)
  for key in spec:
    spec[key].validate(ts.observation[key])
  env.reward_spec().validate(ts.reward)
  env.discount_spec().validate(ts.discount)
  assert ts.reward == np.float32(minipacman.task_weights("avoid") @ ts.observation["events"])


@pytest.mark.parametrize("kwargs, message", [
    pytest.param(dict(task="chase"), "Unknown MiniPacman task", id="task"),
    pytest.param(dict(frame_cap=0), "frame_cap", id="frame_cap"),
    pytest.param(dict(frame_cap=2.5), "frame_cap", id="frame_cap_float"),
    pytest.param(dict(maze_rows=["###", "#.#"]), "MiniPacman map", id="maze"),
])
def test_bad_arguments_raise(kwargs, message):
  with pytest.raises(ValueError, match=message):
    minipacman.MiniPacman(**kwargs)


@pytest.mark.parametrize("action", [-1, 5])
def test_bad_action_raises(action):
  env = minipacman.MiniPacman(seed=0)
  env.reset()
  with pytest.raises(ValueError, match="action must be in"):
    env.step(action)


def test_observations_are_fresh_copies():
  env = minipacman.MiniPacman(seed=0)
  first = env.reset().observation
  first["rgb"][:] = 7
  second = env.step(0).observation
  assert not (second["rgb"] == 7).all()
  assert second["rgb"] is not first["rgb"]


def test_same_seed_same_episodes_different_seed_different():
  actions = np.random.default_rng(5).integers(0, 5, 600).tolist()
  runs = [_run(minipacman.MiniPacman(task="regular", seed=s, frame_cap=200), actions) for s in (3, 3, 4)]
  for a, b in zip(runs[0], runs[1]):
    assert a.step_type == b.step_type and a.reward == b.reward and a.discount == b.discount
    np.testing.assert_array_equal(a.observation["rgb"], b.observation["rgb"])
    np.testing.assert_array_equal(a.observation["events"], b.observation["events"])
  assert any(not np.array_equal(a.observation["rgb"], c.observation["rgb"])
             for a, c in zip(runs[0], runs[2]))


def test_seed_sequence_and_int_seed_agree():
  actions = [1, 2, 3, 4, 0] * 20
  a = _run(minipacman.MiniPacman(seed=9), actions)
  b = _run(minipacman.MiniPacman(seed=np.random.SeedSequence(9)), actions)
  for x, y in zip(a, b):
    np.testing.assert_array_equal(x.observation["rgb"], y.observation["rgb"])


def test_public_api():
  assert minipacman.TASKS == ("regular", "avoid", "hunt", "ambush", "rush")
  assert len(minipacman.EVENT_NAMES) == 5 and minipacman.PALETTE.shape == (7, 3)
  assert (minipacman.HEIGHT, minipacman.WIDTH) == (15, 19)
  assert minipacman.num_ghosts(1) == 1 and minipacman.num_ghosts(3) == 2
  assert minipacman.ghost_speed(1) == 0.5 and minipacman.ghost_speed(11) == pytest.approx(1.5)
  assert minipacman.FRAME_CAP == 3000 and minipacman.level_timer("avoid") == 128
  assert env_lib.MiniPacman(seed=0).task == "regular"


def test_reseed_replays_the_episodes_of_a_fresh_environment():
  actions = np.random.default_rng(2).integers(0, 5, 300).tolist()
  env = minipacman.MiniPacman(seed=1, frame_cap=100)
  _run(env, actions[:37])
  env.reseed(6)
  assert env.step(3).step_type == dm_env.StepType.FIRST  # Reseeding starts a new episode.
  a = [env.step(x) for x in actions]
  b = _run(minipacman.MiniPacman(seed=6, frame_cap=100), actions)[1:]
  for x, y in zip(a, b):
    assert x.step_type == y.step_type and x.reward == y.reward
    np.testing.assert_array_equal(x.observation["rgb"], y.observation["rgb"])
