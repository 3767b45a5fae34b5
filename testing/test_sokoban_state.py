"""Sokoban get_state / set_state: a restored game replays the original exactly, observations included."""
import numpy as np
import pytest

from envs.sokoban import render
from envs.sokoban.batched import BatchedSokoban
from envs.sokoban.env import Sokoban
from testing.sokoban_levels import lvl

ROOM = dict(width=6, height=6, num_boxes=1, max_steps=15, observation="both", pixels_per_cell=3)


def _play(env, actions):
  """Every timestep of `actions` as comparable tuples (step type, reward, discount, rgb, symbolic)."""
  out = []
  for a in actions:
    ts = env.step(a)
    out.append((int(ts.step_type), ts.reward, ts.discount, ts.observation["rgb"],
                ts.observation["symbolic"]))
  return out


def _assert_same(got, want):
  assert len(got) == len(want)
  for t, (g, w) in enumerate(zip(got, want)):
    assert g[:3] == w[:3], f"step {t}"
    np.testing.assert_array_equal(g[3], w[3], err_msg=f"rgb at step {t}")
    np.testing.assert_array_equal(g[4], w[4], err_msg=f"symbolic at step {t}")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_restore_then_step_replays_the_original_exactly(seed):
  """45 random steps cross several 15-step episodes, so the next levels (the rng) must match too."""
  rng = np.random.default_rng(seed)
  env = Sokoban(**ROOM, seed=seed)
  env.reset()
  _play(env, rng.integers(0, 5, 7))
  state = env.get_state()
  actions = rng.integers(0, 5, 45)
  original = _play(env, actions)
  env.set_state(state)
  _assert_same(_play(env, actions), original)
  fresh = Sokoban(**ROOM, seed=seed + 100)  # Another seed, never reset: the state carries everything.
  fresh.set_state(state)
  _assert_same(_play(fresh, actions), original)


def test_restored_observation_is_the_rendered_level():
  env = Sokoban(**ROOM, seed=3)
  env.reset()
  state = env.get_state()
  for a in (1, 2, 3, 4, 4, 1):
    env.step(a)
  other = Sokoban(**ROOM, seed=4)
  other.reset()
  other.set_state(state)  # A different level: most cells are redrawn.
  obs = other.observation()
  level = state.level(6, 6)
  np.testing.assert_array_equal(obs["rgb"], render.render_level(level, 3))
  np.testing.assert_array_equal(obs["symbolic"], render.symbolic_level(level))
  np.testing.assert_array_equal(other.current_level(), level)


def test_state_is_a_snapshot_not_a_view():
  env = Sokoban(**ROOM, seed=5)
  env.reset()
  state = env.get_state(include_rng=False)
  before = state.cells
  for a in (1, 2, 3, 4):
    env.step(a)
  assert state.cells is before and isinstance(state.cells, tuple) and state.rng_state is None
  with pytest.raises(AttributeError):
    state.steps = 3  # pytype: disable=not-writable


def test_state_without_rng_keeps_the_current_level_draws():
  env, twin = Sokoban(**ROOM, seed=7), Sokoban(**ROOM, seed=7)
  env.reset(), twin.reset()
  state = env.get_state(include_rng=False)
  env.set_state(state)
  np.testing.assert_array_equal(env.reset().observation["rgb"], twin.reset().observation["rgb"])


def test_solved_state_restores_the_episode_end():
  level = lvl("#####", "#@$.#", "#####")
  env = Sokoban(width=5, height=3, num_boxes=1, levels=[level], seed=0)
  env.reset()
  start = env.get_state()
  assert env.step(4).last()
  ended = env.get_state()
  env.set_state(start)
  ts = env.step(4)
  assert ts.last() and ts.discount == 0 and ts.reward == pytest.approx(10.9)
  env.set_state(ended)
  assert env.step(0).first()  # After a LAST step, the next step starts a new episode.


def test_wrong_size_state_is_refused():
  env = Sokoban(**ROOM, seed=0)
  env.reset()
  with pytest.raises(ValueError, match="padded cells"):
    Sokoban(width=7, height=6, num_boxes=1).set_state(env.get_state())
  with pytest.raises(ValueError, match="padded cells"):
    BatchedSokoban(2, width=7, height=6, num_boxes=1).set_state(0, env.get_state())


@pytest.mark.parametrize("seed", [0, 1])
def test_states_move_between_single_and_batched(seed):
  rng = np.random.default_rng(seed)
  single = Sokoban(**ROOM, seed=seed)
  single.reset()
  _play(single, rng.integers(0, 5, 4))
  state = single.get_state()
  actions = rng.integers(0, 5, 40)
  original = _play(single, actions)
  batch = BatchedSokoban(3, **ROOM, seed=50)
  batch.reset()
  batch.set_state(1, state)
  for t, a in enumerate(actions):
    ts = batch.step(np.array([0, a, 0]))
    want = original[t]
    # The batched first step reports reward 0 and discount 1 where dm_env's has None.
    assert (int(ts.step_type[1]), ts.reward[1], ts.discount[1]) == (
        want[0], want[1] if want[1] is not None else 0.0, want[2] if want[2] is not None else 1.0)
    np.testing.assert_array_equal(ts.observation["rgb"][1], want[3])
    np.testing.assert_array_equal(ts.observation["symbolic"][1], want[4])
  back = Sokoban(**ROOM)
  back.set_state(batch.get_state(1))
  assert back.get_state(include_rng=False) == batch.get_state(1, include_rng=False)
  np.testing.assert_array_equal(back.observation()["rgb"], ts.observation["rgb"][1])
