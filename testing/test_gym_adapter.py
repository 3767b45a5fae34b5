"""Tests of the Gymnasium adapter (skipped where the optional gymnasium extra is absent)."""
import numpy as np
import pytest

from envs.sokoban import level as level_lib
from envs.sokoban.env import Sokoban
from testing import minipacman_state

gymnasium = pytest.importorskip("gymnasium")
from envs.gym_adapter import GymnasiumAdapter  # pylint: disable=g-import-not-at-top,g-bad-import-order

RIGHT, NOOP = 4, 0
SOLVABLE = level_lib.from_text(["######", "#@ $.#", "######"])
POOL = [SOLVABLE, level_lib.from_text(["######", "# .$@#", "######"]),
        level_lib.from_text(["######", "#.$ @#", "######"])]


def make(observation="both", max_steps=5, levels=(SOLVABLE,), **kwargs):
  env = Sokoban(width=6, height=3, num_boxes=1, observation=observation, max_steps=max_steps,
                levels=list(levels), seed=0)
  return GymnasiumAdapter(env, **kwargs)


def test_spaces_match_dm_env_specs():
  adapter = make()
  assert isinstance(adapter, gymnasium.Env)
  assert adapter.action_space == gymnasium.spaces.Discrete(5)
  space = adapter.observation_space
  assert isinstance(space, gymnasium.spaces.Dict) and set(space.spaces) == {"rgb", "symbolic"}
  assert space["rgb"].shape == (24, 48, 3) and space["rgb"].dtype == np.uint8
  assert space["symbolic"].shape == (3, 6, 7)
  obs, info = adapter.reset()
  assert obs in space and info == {}


def test_observation_key_gives_a_box():
  adapter = make(observation_key="rgb")
  assert isinstance(adapter.observation_space, gymnasium.spaces.Box)
  obs, _ = adapter.reset()
  assert obs.shape == (24, 48, 3) and obs in adapter.observation_space


def test_solve_is_terminated():
  adapter = make()
  adapter.reset()
  assert adapter.step(RIGHT)[1:4] == (pytest.approx(-0.1), False, False)
  _, reward, terminated, truncated, info = adapter.step(RIGHT)
  assert reward == pytest.approx(10.9) and terminated and not truncated and info["discount"] == 0.0


def test_time_limit_is_truncated():
  adapter = make(max_steps=3)
  adapter.reset()
  ends = [adapter.step(NOOP)[2:4] for _ in range(3)]
  assert ends == [(False, False), (False, False), (False, True)]


def test_reset_seed_is_deterministic():
  adapter = make(levels=POOL)
  firsts = [adapter.reset(seed=9)[0]["symbolic"] for _ in range(2)]
  np.testing.assert_array_equal(firsts[0], firsts[1])
  starts = {adapter.reset(seed=9)[0]["symbolic"].tobytes()}
  starts |= {adapter.reset()[0]["symbolic"].tobytes() for _ in range(10)}
  assert len(starts) > 1  # Later resets draw other levels.


def test_render_returns_the_last_frame():
  adapter = make(render_mode="rgb_array")
  obs, _ = adapter.reset()
  np.testing.assert_array_equal(adapter.render(), obs["rgb"])


@pytest.mark.parametrize("kwargs,message", [(dict(observation_key="pixels"), "observation_key"),
                                            (dict(render_mode="human"), "render_mode")],
                         ids=["key", "render_mode"])
def test_bad_arguments_raise(kwargs, message):
  with pytest.raises(ValueError, match=message):
    make(**kwargs)


def test_passes_gymnasium_env_checker():
  from gymnasium.utils import env_checker  # pylint: disable=g-import-not-at-top
  env_checker.check_env(make(levels=POOL, max_steps=50), skip_render_check=True)


def make_minipacman(frame_cap=3000, **kwargs):
  from envs.minipacman import MiniPacman  # pylint: disable=g-import-not-at-top
  return GymnasiumAdapter(MiniPacman(task="avoid", seed=0, frame_cap=frame_cap), **kwargs)


def test_minipacman_frame_cap_is_terminated_not_truncated():
  adapter = make_minipacman(frame_cap=2)
  adapter.reset()
  minipacman_state.set_env_state(adapter.unwrapped.dm_env, pacman=(3, 8), ghosts=[(13, 10)], speed=0.0)
  first = adapter.step(NOOP)
  assert first[2:4] == (False, False)
  assert first[1] == pytest.approx(0.0, abs=1e-6)  # Step 0.1, plus -0.1 for the food under Pacman.
  _, reward, terminated, truncated, info = adapter.step(NOOP)
  assert (terminated, truncated, info["discount"]) == (True, False, 0.0)  # The released game ends it.
  assert reward == pytest.approx(0.1)


def test_minipacman_reset_seed_is_deterministic_and_passes_the_checker():
  adapter = make_minipacman(observation_key="rgb")
  firsts = [adapter.reset(seed=4)[0] for _ in range(2)]
  np.testing.assert_array_equal(firsts[0], firsts[1])
  assert adapter.observation_space.shape == (15, 19, 3)
  assert not np.array_equal(adapter.reset(seed=5)[0], firsts[0])
  from gymnasium.utils import env_checker  # pylint: disable=g-import-not-at-top
  env_checker.check_env(make_minipacman(frame_cap=100), skip_render_check=True)
