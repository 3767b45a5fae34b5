"""The rollout-encoder-free Monte Carlo agent (paper Sec. 4.2, Fig. 5): its policy is the softmax of the
imagined discounted returns of a scripted model, distillation reaches only the rollout policy, and one
learner step moves exactly V, delta and pi-hat, for the good and the poor Sokoban model."""
import math

import numpy as np
import pytest
import sonnet as snt
import tensorflow as tf

import i2a
from i2a import distillation
from i2a import mc_agent
from i2a.env_models import SokobanEnvModel
from i2a.training import learner as learner_lib
from testing import recording_fakes

A, H, W, DEPTH, GAMMA = 4, 3, 4, 3, 0.9
POLICY_ACTION = 2  # The scripted rollout policy's action for every step after the first.
# R[a, k]: the reward of step k of the rollout that starts with action a; S[b]: extra reward of a later
# step whose action is b (so the rollout policy's choice shows in the returns).
R = np.array([[1.0, 0.0, 2.0], [0.5, -1.0, 0.0], [-2.0, 3.0, 1.0], [0.0, 0.0, 0.0]], np.float32)
S = np.array([0.0, 0.0, 0.25, 0.0], np.float32)


@snt.allow_empty_variables
class ScriptedModel(snt.Module):
  """A model whose frame at pixel (0, 0) records (first action + 1) / 10 in channel 0 and the imagined
  step / 10 in channel 1; its reward is R[first action, step] + S[action] on steps after the first."""

  def __call__(self, frame_stack, action):
    newest = frame_stack[:, 0, 0, -3:]
    step = tf.cast(tf.round(newest[:, 1] * 10), tf.int32)
    first = tf.where(step == 0, action, tf.cast(tf.round(newest[:, 0] * 10), tf.int32) - 1)
    reward = tf.gather_nd(tf.constant(R), tf.stack([first, step], -1))
    reward += tf.where(step > 0, tf.gather(tf.constant(S), action), 0.0)
    code = tf.stack([tf.cast(first + 1, tf.float32) / 10, tf.cast(step + 1, tf.float32) / 10,
                     tf.zeros_like(reward)], -1)
    frame = tf.broadcast_to(code[:, None, None, :], tf.concat([tf.shape(frame_stack)[:3], [3]], 0))
    return i2a.EnvModelOutput(frame, reward, tf.zeros([tf.shape(reward)[0], 2]))

  def predicted_terminal(self, output):
    return tf.zeros(tf.shape(output.reward), tf.bool)  # Scripted rollouts never end.


@snt.allow_empty_variables
class ScriptedValue(snt.Module):
  """V(stack) = 3 * channel 0 - channel 1 + 0.5 at pixel (0, 0) of the newest frame."""

  def __call__(self, frame_stack):
    newest = frame_stack[:, 0, 0, -3:]
    return 3.0 * newest[:, 0] - newest[:, 1] + 0.5


def numpy_returns():
  """Q[a] = sum_k gamma^k r_k + gamma^depth V(last imagined frame), from the script's tables."""
  q = np.zeros(A)
  for a in range(A):
    for k in range(DEPTH):
      q[a] += GAMMA ** k * (R[a, k] + (S[POLICY_ACTION] if k else 0.0))
    q[a] += GAMMA ** DEPTH * (3.0 * (a + 1) / 10 - DEPTH / 10 + 0.5)
  return q


def scripted_agent(temperature=1.0):
  return mc_agent.MCAgent(A, DEPTH, ScriptedModel(), recording_fakes.ConstantPolicy(A, POLICY_ACTION),
                          ScriptedValue(), H, W, discount=GAMMA, initial_temperature=temperature, seed=0)


@pytest.mark.parametrize("temperature", [pytest.param(1.0, id="delta_1"), pytest.param(2.5, id="delta_2.5")])
def test_policy_is_the_softmax_of_the_imagined_discounted_returns(temperature):
  agent = scripted_agent(temperature)
  out, state = agent(tf.zeros([3, H, W, 3]), agent.initial_state(3))
  q = numpy_returns()
  assert out.policy_logits.shape == (3, A) and out.policy_logits.dtype == tf.float32
  np.testing.assert_allclose(out.policy_logits.numpy(), np.tile(q / temperature, (3, 1)), rtol=1e-5,
                             atol=1e-6)
  expected_policy = np.exp(q / temperature) / np.exp(q / temperature).sum()
  np.testing.assert_allclose(tf.nn.softmax(out.policy_logits).numpy(), np.tile(expected_policy, (3, 1)),
                             rtol=1e-5)
  np.testing.assert_allclose(out.baseline.numpy(), [0.5] * 3)  # V of the real (black) frame.
  assert out.action.dtype == tf.int32 and out.action.shape == (3,) and state.shape == (3, H, W, 3)
  # Control: a different later action changes Q, so the comparison above sees the rollout policy.
  assert S[POLICY_ACTION] != S[0]


def test_rollout_policy_sees_each_imagined_frame_after_the_first_step():
  agent = scripted_agent()
  agent(tf.zeros([2, H, W, 3]), agent.initial_state(2))
  frames = agent._rollout_policy.frames  # pylint: disable=protected-access
  assert len(frames) == DEPTH - 1
  for k, frame in enumerate(frames, start=1):  # [B * A, H, W, 3], rollout i of batch entry b at b * A + i.
    np.testing.assert_allclose(frame[:, 0, 0, 0], np.tile((np.arange(A) + 1) / 10, 2), rtol=1e-6)
    np.testing.assert_allclose(frame[:, 0, 0, 1], k / 10, rtol=1e-6)


def small_config(**kwargs):
  fields = dict(game="sokoban", variant="mc", room_size=5, pixels_per_cell=2, rollout_depth=2,
                hidden_size=16, lstm_size=8, rollout_hidden_size=16, seed=0,
                torso=i2a.TorsoConfig((8,), (3,), (2,)))
  return i2a.AgentConfig(**dict(fields, **kwargs))


def test_factory_builds_the_mc_agent_without_encoder_or_model_free_path():
  agent = i2a.build_agent(small_config())
  assert isinstance(agent, mc_agent.MCAgent) and isinstance(agent.rollout_policy, i2a.RolloutPolicy)
  assert isinstance(agent.env_model, SokobanEnvModel)
  agent(tf.zeros([2, 10, 10, 3]), agent.initial_state(2))
  names = {v.name for v in agent.trainable_variables}
  assert not any("lstm" in n or "model_free" in n or "env_model" in n for n in names), names
  assert agent.frozen_variables and all("env_model" in v.name for v in agent.frozen_variables)
  assert math.isclose(float(tf.exp(agent.log_temperature)), 1.0)
  with pytest.raises(ValueError, match="all imagination"):
    small_config(imag_path="none")
  with pytest.raises(ValueError, match="no rollout encoder"):
    small_config(encoder_direction="forward")


def test_distillation_reaches_only_the_rollout_policy_and_the_policy_loss_never_does():
  agent = i2a.build_agent(small_config())
  frames = tf.random.stateless_uniform([4, 10, 10, 3], seed=[1, 2])
  agent(frames, agent.initial_state(4))
  policy_refs = {v.ref() for v in agent.rollout_policy.trainable_variables}
  variables = agent.trainable_variables
  with tf.GradientTape(persistent=True) as tape:
    out, _ = agent(frames, agent.initial_state(4))
    distil = tf.reduce_sum(distillation.distillation_loss(agent.rollout_policy(frames)[1],
                                                          out.policy_logits).loss)
    actor_critic = (tf.reduce_sum(tf.nn.log_softmax(out.policy_logits)[:, 1])
                    + tf.reduce_sum(out.baseline ** 2))
  for variable, grad in zip(variables, tape.gradient(distil, variables)):
    assert (grad is not None) == (variable.ref() in policy_refs), variable.name
  grads = dict(zip([v.name for v in variables], tape.gradient(actor_critic, variables)))
  assert all(grads[v.name] is None for v in agent.rollout_policy.trainable_variables)
  assert grads[agent.log_temperature.name] is not None
  assert all(grads[v.name] is not None for v in agent.value_net.trainable_variables)
  assert all(g is None for g in tape.gradient(actor_critic, agent.frozen_variables))


def _trajectory(num_actions=5, t=4, b=2, height=10, width=10, seed=0):
  rng = np.random.default_rng(seed)
  step_type = np.ones((t + 1, b), np.int32)
  step_type[0] = 0
  return i2a.Trajectory(
      step_type=step_type, observation=rng.integers(0, 256, (t + 1, b, height, width, 3), dtype=np.uint8),
      reward=rng.normal(size=(t + 1, b)).astype(np.float32), discount=np.ones((t + 1, b), np.float32),
      action=rng.integers(0, num_actions, (t + 1, b)).astype(np.int32),
      behaviour_logits=rng.normal(size=(t + 1, b, num_actions)).astype(np.float32),
      initial_state=np.zeros((b, height, width, 3), np.float32))


@pytest.mark.parametrize("config", [
    pytest.param(small_config(), id="mc_good_model"),
    pytest.param(small_config(env_model_size="poor"), id="mc_poor_model"),
    pytest.param(small_config(rollout_depth=1, rollout_policy="random"), id="mc_depth1_random_policy"),
    pytest.param(small_config(variant="i2a", env_model_size="poor"), id="i2a_poor_model"),
    pytest.param(small_config(variant="i2a", encoder_direction="forward"), id="i2a_forward"),
    pytest.param(small_config(variant="i2a", encoder_direction="bidirectional"), id="i2a_bidirectional"),
])
def test_one_learner_step_moves_exactly_the_trainable_variables(config):
  tf.random.set_seed(0)
  agent = i2a.build_agent(config)
  learner = learner_lib.Learner(agent, learner_lib.LearnerConfig(learning_rate=1e-2))
  frozen = [v.numpy().copy() for v in agent.frozen_variables]
  trainable = [v.numpy().copy() for v in agent.trainable_variables]
  assert frozen and trainable
  logs = learner.step(_trajectory())
  assert logs["learner_step"] == 1 and np.isfinite(logs["loss"])
  assert (logs["distillation_loss"] > 0) == (config.rollout_policy == "distilled")
  for variable, old in zip(agent.frozen_variables, frozen):
    np.testing.assert_array_equal(variable.numpy(), old, err_msg=variable.name)
  moved = {v.name for v, old in zip(agent.trainable_variables, trainable)
           if not np.array_equal(v.numpy(), old)}
  assert moved == {v.name for v in agent.trainable_variables}
