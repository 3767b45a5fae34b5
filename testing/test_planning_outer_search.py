"""I2A's outer Monte Carlo search (paper Sec. 4.3): imagined retries through a perfect model, the
paper's sequential step count, the plan executed for real, and the adapters for a trained agent/model."""
import numpy as np
import pytest
import sonnet as snt
import tensorflow as tf

import i2a
from envs.sokoban import render
from envs.sokoban.env import Sokoban
from i2a import frame_processing
from i2a import types
from i2a.planning import mcts
from i2a.planning import outer_search
from i2a.planning import search_models
from testing.sokoban_levels import lvl

UP, DOWN, LEFT, RIGHT = 1, 2, 3, 4
PPC = 2
CORRIDOR = ("#######", "#@ $ .#", "#######")  # Solved by RIGHT x 3.
TWO_BOXES = ("#######", "#@$. .#", "#   $ #", "#######")


class ScriptedPolicy:
  """Copy i plays `scripts[i]` (the last action repeats); `model_steps_per_step` inner steps each."""

  def __init__(self, scripts, model_steps_per_step=0):
    self.scripts = scripts
    self.model_steps_per_step = model_steps_per_step

  def initial_state(self, n):
    return np.zeros(n, np.int64)

  def __call__(self, frames, t):
    assert frames.dtype == np.float32 and frames.ndim == 4
    actions = [s[min(k, len(s) - 1)] for s, k in zip(self.scripts, t)]
    return np.array(actions), t + 1


class RandomPolicy:
  model_steps_per_step = 0

  def __init__(self, seed):
    self.rng = np.random.default_rng(seed)

  def initial_state(self, n):
    return None

  def __call__(self, frames, state):
    return self.rng.integers(0, 5, len(frames)), state


def _frame(rows):
  return render.render_level(lvl(*rows), PPC)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_random_policy_finds_the_corridor_solution_through_the_perfect_model(seed):
  level = lvl(*CORRIDOR)
  config = outer_search.OuterSearchConfig(max_retries=10, max_episode_steps=40)
  result = outer_search.search(RandomPolicy(seed), search_models.SimulatorModel(PPC), _frame(CORRIDOR),
                               config)
  # Three net RIGHTs within 40 random moves happen in most episodes; 10 tries make a miss vanishingly
  # rare, and the seeds are fixed anyway.
  assert result.found and mcts.replay_solves(level, result.plan)
  assert 1 <= result.attempts <= 10 and result.model_steps >= result.attempts + 2


def test_steps_are_counted_as_sequential_retries():
  """Attempts 0-2 walk into the wall for the whole episode; attempt 3 solves in 3 steps; 4+ would too."""
  policy = ScriptedPolicy([[LEFT]] * 3 + [[RIGHT]] * 7, model_steps_per_step=25)
  config = outer_search.OuterSearchConfig(max_retries=10, max_episode_steps=12)
  result = outer_search.search(policy, search_models.SimulatorModel(PPC), _frame(CORRIDOR), config)
  assert result.found and result.plan == [RIGHT] * 3 and result.attempts == 4
  assert result.model_steps == (3 * 12 + 3) * (1 + 25)  # Each imagined step: 1 outer + 25 inner.


def test_without_a_solution_the_best_imagined_return_is_played():
  policy = ScriptedPolicy([[UP], [RIGHT, UP], [DOWN, RIGHT, RIGHT, UP]])
  config = outer_search.OuterSearchConfig(max_retries=3, max_episode_steps=6)
  result = outer_search.search(policy, search_models.SimulatorModel(PPC), _frame(TWO_BOXES), config)
  # Returns: attempt 0 bumps (-0.6), attempt 1 pushes the top box onto a target (0.9 - 0.5 = 0.4),
  # attempt 2 only walks (-0.6).
  assert not result.found and result.attempts == 3 and result.model_steps == 3 * 6
  assert result.plan == [RIGHT] + [UP] * 5


def test_perfect_model_frames_equal_the_real_environment():
  env = Sokoban(7, 4, 2, pixels_per_cell=PPC, levels=[lvl(*TWO_BOXES)])
  first = env.reset().observation["rgb"]
  model = search_models.SimulatorModel(PPC)
  frames = model.reset(first, 2)
  np.testing.assert_array_equal(frames[1], first / np.float32(255))
  for action in (DOWN, RIGHT, RIGHT, UP, RIGHT):
    real = env.step(action)
    step = model.step(np.array([0, action]))
    np.testing.assert_array_equal(step.frame[1], real.observation["rgb"] / np.float32(255))
    assert step.reward[1] == pytest.approx(real.reward) and step.solved[1] == (real.discount == 0)


def test_evaluate_executes_the_plan_in_the_real_environment():
  env = Sokoban(7, 3, 1, pixels_per_cell=PPC, levels=[lvl(*CORRIDOR)], seed=0)
  policy = ScriptedPolicy([[LEFT]] + [[RIGHT]] * 4)
  row = outer_search.evaluate(policy, search_models.SimulatorModel(PPC), env, num_levels=3,
                              config=outer_search.OuterSearchConfig(max_retries=5, max_episode_steps=10))
  assert row["fraction_solved"] == 1.0 and row["fraction_found"] == 1.0
  assert row["mean_model_steps"] == 10 + 3 and row["mean_attempts"] == 2


class SolvesOnRight(snt.Module):
  """A fake environment model: frame + 0.1, reward bin 10.9 (index 3) on RIGHT, else bin -0.1."""

  def __call__(self, frame_stack, action):
    bins = tf.one_hot(tf.where(action == RIGHT, 3, 1), 4)
    reward = tf.reduce_sum(bins * tf.constant(i2a.games.SOKOBAN_REWARD_BINS), -1)
    return types.EnvModelOutput(frame_stack[..., -3:] + 0.1, reward, bins)

  def predicted_terminal(self, output):
    return tf.argmax(output.reward_bins, axis=-1) == 3


def test_learned_model_reads_solved_from_the_solving_reward_bin():
  model = search_models.LearnedModel(SolvesOnRight(), stack_size=2)
  frames = model.reset(np.zeros((4, 6, 3), np.uint8), 3)
  assert frames.shape == (3, 4, 6, 3) and frames.dtype == np.float32
  step = model.step(np.array([UP, RIGHT, LEFT]))
  np.testing.assert_array_equal(step.solved, [False, True, False])
  np.testing.assert_allclose(step.reward, [-0.1, 10.9, -0.1], rtol=1e-6)
  step = model.step(np.array([UP, UP, UP]))
  np.testing.assert_allclose(step.frame, 0.2, rtol=1e-6)  # Its own prediction was fed back.


def test_learned_model_needs_a_solving_reward():
  with pytest.raises(ValueError, match="solving reward bin"):
    search_models.LearnedModel(SolvesOnRight(), reward_bins=(-0.1, 1.0))
  frames_only = i2a.build_env_model(i2a.AgentConfig(game="sokoban", variant="i2a", predict_reward=False,
                                                    room_size=5, pixels_per_cell=2, rollout_depth=1))
  with pytest.raises(ValueError, match="frames only"):
    search_models.LearnedModel(frames_only)


def test_trained_agent_and_its_model_plug_into_the_search():
  tf.random.set_seed(0)
  config = i2a.AgentConfig(game="sokoban", variant="i2a", room_size=7, pixels_per_cell=PPC,
                           rollout_depth=1, seed=0, torso=frame_processing.TALK_TORSO, hidden_size=16,
                           lstm_size=8, rollout_hidden_size=8)
  agent = i2a.build_agent(config)
  policy = search_models.AgentPolicy(agent)
  assert policy.model_steps_per_step == 5 * 1  # One depth-1 rollout per action.
  model = search_models.LearnedModel(agent.env_model, stack_size=1)
  frame = render.render_level(lvl("#######", "#@ $ .#", "#     #", "#     #", "#     #", "#     #",
                                  "#######"), PPC)
  result = outer_search.search(policy, model, frame, outer_search.OuterSearchConfig(3, 5))
  assert len(result.plan) <= 5 and all(0 <= a < 5 for a in result.plan)
  # Whatever the untrained model predicts, each imagined step costs 1 + 5 model steps.
  assert result.model_steps % 6 == 0 and 6 <= result.model_steps <= 3 * 5 * 6
  if not result.found:
    assert result.model_steps == 3 * 5 * 6 and result.attempts == 3


def test_evaluate_agent_with_the_perfect_model_executes_what_it_found():
  tf.random.set_seed(1)
  config = i2a.AgentConfig(game="sokoban", variant="standard", room_size=5, pixels_per_cell=PPC, seed=1,
                           torso=frame_processing.TALK_TORSO, hidden_size=16)
  agent = i2a.build_agent(config)
  level = lvl("#####", "#@$.#", "#   #", "#   #", "#####")
  row = search_models.evaluate_agent(agent, num_levels=4, room_size=5, num_boxes=1, pixels_per_cell=PPC,
                                     max_steps=30, max_retries=4, levels=[level], perfect_model=True)
  assert row["box_count"] == 1 and row["episodes"] == 4 and row["max_retries"] == 4
  # Imagination through the perfect model is reality: found in imagination <=> solved for real.
  assert row["fraction_solved"] == row["fraction_found"] > 0
  # A model-free agent imagines nothing itself: every charged step is the search's own.
  assert row["perfect_model"] is True and row["agent_model_steps_per_step"] == 0
  with pytest.raises(ValueError, match="has none"):
    search_models.evaluate_agent(agent, num_levels=1, room_size=5, num_boxes=1, pixels_per_cell=PPC)
