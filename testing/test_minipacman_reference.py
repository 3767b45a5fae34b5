"""MiniPacman against a naive re-implementation of the released game (testing/minipacman_reference.py).

Both draw their random numbers in the same order from generators seeded alike, so from the same seed
and actions they must give the same episodes, frame for frame. Seeded random play checks the figures a
user compares (episode lengths, returns, reward values, level changes); random hand-set states reach
what random play rarely does (a level's last food, pill or ghost, high levels, power, Avoid's timer).
"""
import itertools

import numpy as np
import pytest

from envs.minipacman import env as env_lib
from envs.minipacman import tasks
from testing import minipacman_reference
from testing import minipacman_state

FREE = [(r, c) for r, row in enumerate(minipacman_reference.RELEASED_MAP) for c, ch in enumerate(row)
        if ch == "0"]


def assert_same_step(ts, expected):
  step_type, reward, discount, rgb, events = expected
  if (int(ts.step_type) == step_type and (step_type == 0 or (abs(ts.reward - reward) < 1e-6
      and ts.discount == discount)) and np.array_equal(ts.observation["rgb"], rgb)
      and np.array_equal(ts.observation["events"], events)):
    return  # The fast path; the asserts below say what differs.
  assert int(ts.step_type) == step_type
  if step_type == 0:
    assert ts.reward is None and ts.discount is None
  else:
    assert ts.reward == pytest.approx(reward, abs=1e-6) and ts.discount == discount
  np.testing.assert_array_equal(ts.observation["rgb"], rgb)
  np.testing.assert_array_equal(ts.observation["events"], events)


def play_episode(env, ref, actions, max_steps=None):
  """Plays both in lockstep until an episode end (or `max_steps`); returns (length, return, rewards)."""
  length, total, rewards = 0, 0.0, set()
  while max_steps is None or length < max_steps:
    a = int(actions.integers(5))
    ts, expected = env.step(a), ref.step(a)
    assert_same_step(ts, expected)
    length += 1
    total += float(ts.reward)
    rewards.add(round(float(ts.reward), 5))
    if ts.last():
      break
  assert env.game.level == ref.level and env.game.power == ref.power
  return length, total, rewards


def possible_rewards(task):
  """w . events over every event combination the rules allow (ghost and death exclude each other)."""
  weights = np.float32(tasks.task_weights(task))
  combos = [(1, f, p, g, k) for f, p, g, k in itertools.product((0, 1), repeat=4) if not (g and k)]
  return {round(float(np.dot(weights, np.float32(c))), 5) for c in combos}


@pytest.mark.parametrize("task", tasks.TASKS)
def test_seeded_random_play_matches_the_reference(task):
  episodes = 100
  env = env_lib.MiniPacman(task=task, seed=7)
  ref = minipacman_reference.NaiveMiniPacman(task, seed=7)
  actions = np.random.default_rng(1)
  lengths, returns, levels, rewards = [], [], [], set()
  for _ in range(episodes):
    assert_same_step(env.reset(), ref.reset())
    length, total, seen = play_episode(env, ref, actions)
    lengths.append(length)
    returns.append(total)
    levels.append(ref.level - 1)
    rewards |= seen
  assert rewards <= possible_rewards(task)
  assert max(lengths) <= 3000 and min(lengths) >= 1
  if task == "avoid":  # 138 food cannot be eaten in 128 steps: only the timer ends levels.
    assert levels == [n // 128 for n in lengths]
    assert max(levels) >= 1


def random_state(rng):
  """A state random play rarely reaches: little food, pills and ghosts near Pacman, any level."""
  pick = lambda k: [FREE[i] for i in rng.integers(len(FREE), size=k)]
  pacman = pick(1)[0]
  near = [cell for cell in FREE if abs(cell[0] - pacman[0]) + abs(cell[1] - pacman[1]) <= 3]
  pick_near = lambda k: [near[i] for i in rng.integers(len(near), size=k)]
  level = int(rng.integers(1, 12))
  ghosts = [cell + (int(rng.integers(1, 5)),) for cell in pick_near(int(rng.integers(0, 3))) +
            pick(int(rng.integers(0, 2)))]
  return dict(pacman=pacman, food=pick_near(int(rng.integers(0, 4))),
              pills=pick_near(int(rng.integers(0, 3))), ghosts=ghosts,
              power=int(rng.choice([0, 0, 1, 2, 20, 20])), level=level,
              timer=int(rng.choice([0, 60, 120, 126, 127])))


@pytest.mark.parametrize("task", tasks.TASKS)
def test_random_hand_set_states_match_the_reference(task):
  rng = np.random.default_rng(tasks.TASKS.index(task))
  actions = np.random.default_rng(100)
  level_changes = 0
  for trial in range(150):
    env = env_lib.MiniPacman(task=task, seed=trial, frame_cap=40)
    ref = minipacman_reference.NaiveMiniPacman(task, seed=trial, frame_cap=40)
    assert_same_step(env.reset(), ref.reset())  # Both have drawn level 1 from the same stream.
    state = random_state(rng)
    np.testing.assert_array_equal(minipacman_state.set_env_state(env, **state), ref.set_state(**state))
    play_episode(env, ref, actions, max_steps=40)
    level_changes += env.game.level != state["level"]
  assert level_changes >= 3  # The states do reach level ends.
