"""The Monte Carlo agent's returns and its learner (paper Sec. 4.2): returns stop at a predicted episode
end, V inside Q gets no policy gradient, the learner scores the actor's own rollouts, and the discount
is the learner's."""
import numpy as np
import pytest
import sonnet as snt
import tensorflow as tf

import i2a
from i2a import imagined as imagination_lib
from i2a import mc_agent
from i2a import rollouts
from i2a.training import environments
from i2a.training import inference
from i2a.training import learner as learner_lib
from i2a.training import loop
from i2a.training import trajectories
from testing import recording_fakes
from testing import test_mc_agent

A, H, W, DEPTH, GAMMA = 3, 2, 2, 3, 0.9


@snt.allow_empty_variables
class SolvesAtFirstStep(snt.Module):
  """Rollout 0's first step solves (reward 10, episode over); every other step earns 1. The frame's
  pixel records the imagined step, so V of the last frame is known."""

  def __call__(self, frame_stack, action):
    step = frame_stack[:, 0, 0, -1] * 10 + 1
    first = tf.logical_and(tf.equal(action, 0), step < 1.5)
    reward = tf.where(first, 10.0, 1.0)
    frame = tf.broadcast_to((step / 10)[:, None, None, None], tf.concat([tf.shape(frame_stack)[:3], [3]], 0))
    bins = tf.stack([1.0 - tf.cast(first, tf.float32), tf.cast(first, tf.float32)], -1)
    return i2a.EnvModelOutput(frame, reward, bins)

  def predicted_terminal(self, output):
    return output.reward_bins[:, 1] > 0.5


@snt.allow_empty_variables
class ConstantValue(snt.Module):

  def __init__(self, value):
    super().__init__()
    self.value = value

  def __call__(self, frame_stack):
    return tf.fill(tf.shape(frame_stack)[:1], self.value)


def solving_agent(value):
  return mc_agent.MCAgent(A, DEPTH, SolvesAtFirstStep(), recording_fakes.ConstantPolicy(A, 1),
                          ConstantValue(value), H, W, discount=GAMMA, seed=0)


def test_the_return_of_a_solving_action_stops_at_the_solve_and_ignores_v():
  q = {}
  for value in (0.0, 100.0):
    agent = solving_agent(value)
    q[value] = agent.imagined_returns(tf.zeros([2, H, W, 3])).numpy()
  np.testing.assert_allclose(q[0.0][:, 0], 10.0)  # The solve's reward, nothing after it.
  np.testing.assert_allclose(q[100.0][:, 0], 10.0)
  # The other rollouts never end: sum_k gamma^k * 1 + gamma^D V.
  running = sum(GAMMA**k for k in range(DEPTH))
  np.testing.assert_allclose(q[0.0][:, 1:], running, rtol=1e-6)
  np.testing.assert_allclose(q[100.0][:, 1:], running + GAMMA**DEPTH * 100.0, rtol=1e-5)


@pytest.mark.parametrize("ends", [[0, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 1]])
def test_imagined_returns_match_a_numpy_reference(ends):
  rng = np.random.default_rng(3)
  rewards = rng.normal(size=(2, A, DEPTH)).astype(np.float32)
  terminal = np.broadcast_to(np.asarray(ends, np.float32), rewards.shape)
  values = rng.normal(size=(2, A)).astype(np.float32)
  expected = np.zeros((2, A))
  for b in range(2):
    for a in range(A):
      alive = 1.0
      for k in range(DEPTH):
        expected[b, a] += GAMMA**k * alive * rewards[b, a, k]
        alive *= 1.0 - terminal[b, a, k]
      expected[b, a] += GAMMA**DEPTH * alive * values[b, a]
  imagined = imagination_lib.Imagination(tf.zeros([2, A, DEPTH, 1, 1, 3]), tf.constant(rewards),
                                         tf.zeros([2, A, DEPTH], tf.int32), tf.constant(terminal))
  got = rollouts.imagined_returns(imagined, tf.constant(values), GAMMA)
  np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_the_value_net_learns_from_the_baseline_loss_alone():
  agent = i2a.build_agent(test_mc_agent.small_config())
  learner = learner_lib.Learner(agent, learner_lib.LearnerConfig(learning_rate=1e-2, baseline_cost=0.0))
  value_before = [v.numpy().copy() for v in agent.value_net.trainable_variables]
  temperature_before = float(agent.log_temperature.numpy())
  logs = learner.step(test_mc_agent._trajectory())  # pylint: disable=protected-access
  assert np.isfinite(logs["loss"]) and logs["learner_step"] == 1
  for variable, old in zip(agent.value_net.trainable_variables, value_before):
    np.testing.assert_array_equal(variable.numpy(), old, err_msg=variable.name)
  assert float(agent.log_temperature.numpy()) != temperature_before  # The policy gradient's target.
  # Control: with its baseline loss the value net moves.
  learner = learner_lib.Learner(agent, learner_lib.LearnerConfig(learning_rate=1e-2))
  learner.step(test_mc_agent._trajectory())  # pylint: disable=protected-access
  assert any(not np.array_equal(v.numpy(), old)
             for v, old in zip(agent.value_net.trainable_variables, value_before))


def _acted_trajectory(agent, steps=4, batch=2, seed=0):
  """Acts `steps` + 1 times on random frames with the actors' policy step, shipping its rollouts."""
  policy = inference.PolicyStep(agent, ship_imagination=True)
  rng = np.random.default_rng(seed)
  observation = rng.integers(0, 256, (steps + 1, batch, agent.height, agent.width, 3), dtype=np.uint8)
  step_type = np.ones((steps + 1, batch), np.int32)
  step_type[0] = 0
  state = initial = policy.initial_state(batch)
  logits, actions, imagined = [], [], []
  for t in range(steps + 1):
    output, state, compact = policy._step(observation[t], step_type[t], state)  # pylint: disable=protected-access
    logits.append(output.policy_logits.numpy())
    actions.append(output.action.numpy())
    imagined.append(imagination_lib.CompactImagination(*(x.numpy() for x in compact)))
  return i2a.Trajectory(
      step_type=step_type, observation=observation, reward=np.zeros((steps + 1, batch), np.float32),
      discount=np.ones((steps + 1, batch), np.float32), action=np.stack(actions),
      behaviour_logits=np.stack(logits), initial_state=initial,
      imagination=imagination_lib.stack_arrays(imagined))


@pytest.mark.parametrize("depth", [2, 3])
def test_with_equal_weights_the_learner_sees_the_actors_policy(depth):
  tf.random.set_seed(1)
  agent = i2a.build_agent(test_mc_agent.small_config(rollout_depth=depth))
  learner = learner_lib.Learner(agent, learner_lib.LearnerConfig())
  trajectory = _acted_trajectory(agent)
  assert trajectory.imagination.terminal.shape == (5, 2, 5, depth)
  checked = trajectories.checked_trajectory(trajectory, agent)
  reused = learner.unroll(checked.observation, checked.step_type, checked.initial_state, checked.imagination)
  np.testing.assert_allclose(reused.policy_logits.numpy(), trajectory.behaviour_logits, rtol=1e-5, atol=1e-5)
  # Control: the learner reads the shipped rollouts; other imagined rewards give another policy.
  other = checked.imagination._replace(reward=checked.imagination.reward + 1.0)
  moved = learner.unroll(checked.observation, checked.step_type, checked.initial_state, other)
  assert not np.allclose(moved.policy_logits.numpy(), trajectory.behaviour_logits, atol=1e-3)


def test_the_run_discount_reaches_the_mc_agent_of_learner_and_actors(tmp_path):
  config = loop.TrainConfig(
      agent=test_mc_agent.small_config(env_model="copy"), logdir=str(tmp_path), num_actors=1,
      envs_per_actor=2, batch_size=2, unroll_length=2, learner=learner_lib.LearnerConfig(discount=0.8),
      env=environments.EnvConfig(num_boxes=1, max_steps=10))
  learner, _ = loop.build_learner(config)
  assert learner.agent.discount == 0.8
  builder = loop.backends.ActorBuilder(config.agent, config.env, 2, 2, seed=1, discount=0.8)
  assert builder(0, None)._policy.agent.discount == 0.8  # pylint: disable=protected-access
  assert i2a.build_agent(test_mc_agent.small_config()).discount == learner_lib.LearnerConfig().discount
