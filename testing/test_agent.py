"""I2AAgent: the RNNCore contract, NoImagPath equivalence, frozen environment model, distillation."""
import numpy as np
import pytest
import tensorflow as tf

import i2a
from testing import fakes
from testing import module_cases

H, W, A = module_cases.H, module_cases.W, module_cases.A


@pytest.mark.parametrize("variant", ["standard", "copy", "i2a"])
@pytest.mark.parametrize("batch_size", [1, 3])
def test_step_shapes_and_dtypes(variant, batch_size):
  agent = fakes.small_agent(variant)
  state = agent.initial_state(batch_size)
  assert state.shape == (batch_size, H, W, 3 * module_cases.S) and state.dtype == tf.float32
  np.testing.assert_array_equal(state.numpy(), 0.0)
  (action, logits, baseline), next_state = agent(tf.constant(module_cases.frames(batch_size)), state)
  assert action.shape == (batch_size,) and action.dtype == tf.int32
  assert logits.shape == (batch_size, A) and logits.dtype == tf.float32
  assert baseline.shape == (batch_size,) and baseline.dtype == tf.float32
  assert np.all((action.numpy() >= 0) & (action.numpy() < A))
  np.testing.assert_array_equal(next_state[..., -3:].numpy(), module_cases.frames(batch_size))


def test_initial_state_defaults_to_batch_one_as_in_the_notebook():
  agent = fakes.small_agent("copy")
  state = agent.initial_state()
  assert state.shape == (1, H, W, 3 * module_cases.S) and state.dtype == tf.float32
  np.testing.assert_array_equal(state.numpy(), 0.0)
  (action, _, _), _ = agent(tf.constant(module_cases.frames(1)), state)
  assert action.shape == (1,)


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_no_imag_path_agent_is_the_model_free_network(precision):
  """With NoImagPath, the outputs are exactly hidden -> heads applied to the model-free feature; the
  torso and hidden layer compute in `precision`, the heads in float32 on float32 variables."""
  agent = fakes.small_agent("standard", precision=precision)
  frame, state = tf.constant(module_cases.frames(3)), agent.initial_state(3)
  (_, logits, baseline), next_state = agent(frame, state)
  feature = agent.model_free_path(tf.cast(next_state, precision))
  hidden = tf.nn.relu(agent._hidden(feature))  # pylint: disable=protected-access
  assert feature.dtype == hidden.dtype == tf.as_dtype(precision)
  out = agent._value_and_logits(tf.cast(hidden, tf.float32))  # pylint: disable=protected-access
  assert all(v.dtype == tf.float32 for v in agent.variables if v.dtype.is_floating)
  np.testing.assert_allclose(logits.numpy(), out[:, 1:].numpy(), rtol=1e-6)
  np.testing.assert_allclose(baseline.numpy(), out[:, 0].numpy(), rtol=1e-6)


def test_copy_and_i2a_have_the_same_trainable_parameters():
  """The copy-model baseline has I2A's parameters and compute (paper Sec. 4.1)."""
  counts = {}
  for variant in ("copy", "i2a"):
    agent = fakes.small_agent(variant)
    agent(tf.constant(module_cases.frames(1)), agent.initial_state(1))
    counts[variant] = sum(int(np.prod(v.shape)) for v in agent.trainable_variables)
  assert counts["copy"] == counts["i2a"]


def test_env_model_is_frozen_and_loadable_from_its_own_checkpoint(tmp_path):
  agent = fakes.small_agent("i2a")
  frame = tf.constant(module_cases.frames(2))
  with tf.GradientTape() as tape:
    (_, logits, baseline), _ = agent(frame, agent.initial_state(2))
    loss = tf.reduce_sum(logits) + tf.reduce_sum(baseline)
  frozen = {v.ref() for v in agent.frozen_variables}
  assert frozen, "the conv environment model has variables"
  assert not frozen & {v.ref() for v in agent.trainable_variables}
  assert all(g is None for g in tape.gradient(loss, agent.frozen_variables))

  # Train-free model saved on its own, restored into the agent's model: identical predictions.
  source = i2a.SizePreservingConvNetModel(A, (-1.0, 0.0, 1.0))
  stack, action = tf.constant(module_cases.frames(2, 3 * module_cases.S)), tf.constant([1, 4])
  expected = source(stack, action)
  path = tf.train.Checkpoint(env_model=source).write(str(tmp_path / "env_model"))
  tf.train.Checkpoint(env_model=agent.env_model).read(path).assert_consumed()
  actual = agent.env_model(stack, action)
  for a, e in zip(actual, expected):
    np.testing.assert_allclose(a.numpy(), e.numpy(), rtol=1e-6)


def test_distillation_gradients_reach_only_the_rollout_policy():
  agent = fakes.small_agent("i2a")
  frame = tf.constant(module_cases.frames(3))
  with tf.GradientTape() as tape:
    (_, policy_logits, _), _ = agent(frame, agent.initial_state(3))
    _, rollout_logits = agent.rollout_policy(frame)
    loss = tf.reduce_sum(i2a.distillation_loss(rollout_logits, policy_logits).loss)
  all_vars = agent.trainable_variables + agent.frozen_variables
  grads = tape.gradient(loss, all_vars)
  policy_vars = {v.ref() for v in agent.rollout_policy.trainable_variables}
  for var, grad in zip(all_vars, grads):
    if var.ref() in policy_vars:
      assert grad is not None and np.any(grad.numpy() != 0), var.name
    else:
      assert grad is None or not np.any(grad.numpy()), var.name


def test_rl_loss_does_not_reach_the_rollout_policy():
  agent = fakes.small_agent("i2a")
  frame = tf.constant(module_cases.frames(3))
  with tf.GradientTape() as tape:
    (_, logits, baseline), _ = agent(frame, agent.initial_state(3))
    loss = tf.reduce_sum(tf.nn.log_softmax(logits)) + tf.reduce_sum(baseline ** 2)
  grads = tape.gradient(loss, agent.rollout_policy.trainable_variables)
  assert all(g is None for g in grads)


def _numpy_softmax(x):
  e = np.exp(x - x.max(-1, keepdims=True))
  return e / e.sum(-1, keepdims=True)


def test_distillation_loss_matches_numpy():
  rng = np.random.default_rng(0)
  rollout, policy = rng.normal(size=(2, 4, A)).astype(np.float32), rng.normal(size=(2, 4, A)).astype(np.float32)
  out = i2a.distillation_loss(tf.constant(rollout), tf.constant(policy))
  expected = -np.sum(_numpy_softmax(policy) * np.log(_numpy_softmax(rollout)), axis=-1)
  assert out.loss.shape == (2, 4)
  np.testing.assert_allclose(out.loss.numpy(), expected, rtol=1e-5)
  np.testing.assert_allclose(out.extra.rollout_entropy.numpy(),
                             -np.sum(_numpy_softmax(rollout) * np.log(_numpy_softmax(rollout)), -1), rtol=1e-5)
  # Gradient w.r.t. the rollout logits is softmax(rollout) - softmax(policy); none w.r.t. the policy.
  r, p = tf.constant(rollout), tf.constant(policy)
  with tf.GradientTape(persistent=True) as tape:
    tape.watch([r, p])
    loss = tf.reduce_sum(i2a.distillation_loss(r, p).loss)
  np.testing.assert_allclose(tape.gradient(loss, r).numpy(), _numpy_softmax(rollout) - _numpy_softmax(policy),
                             atol=1e-6)
  assert tape.gradient(loss, p) is None


def _seeded_run(sampling_seed: int, weight_seed: int = 11):
  """Actions [4, 3] and weights of a fresh i2a agent.

  AgentConfig.seed seeds only action sampling; weights come from TF's global generator, so the
  weight seed is set here as launch/train does (tf.random.set_seed), before the first call creates them.
  """
  tf.random.set_seed(weight_seed)
  agent = fakes.small_agent("i2a", seed=sampling_seed)
  state, frame = agent.initial_state(3), tf.constant(module_cases.frames(3))
  run = []
  for _ in range(4):
    (action, _, _), state = agent(frame, state)
    run.append(action.numpy())
  weights = list(agent.trainable_variables) + list(agent.frozen_variables)  # Not the sampler states.
  return np.stack(run), [v.numpy() for v in weights]


def test_seeded_agents_act_identically():
  (first, first_weights), (second, second_weights) = _seeded_run(7), _seeded_run(7)
  assert len(first_weights) == len(second_weights) > 0
  for a, b in zip(first_weights, second_weights):
    np.testing.assert_array_equal(a, b)
  np.testing.assert_array_equal(first, second)
  # The sampling seed matters: another seed with the same weights acts differently somewhere.
  other, other_weights = _seeded_run(8)
  for a, b in zip(first_weights, other_weights):
    np.testing.assert_array_equal(a, b)
  assert not np.array_equal(first, other)


def test_sampler_frequencies_match_the_policy():
  from i2a import sampling  # pylint: disable=g-import-not-at-top
  probs = np.array([0.05, 0.15, 0.3, 0.5], np.float32)
  draws = sampling.Sampler(seed=3)(tf.math.log(tf.tile(probs[None], [40000, 1]))).numpy()
  np.testing.assert_allclose(np.bincount(draws, minlength=4) / draws.size, probs, atol=0.01)


@pytest.mark.parametrize("bad_frame, message", [
    (np.zeros((2, H, W, 3), np.uint8), "float32"),
    (np.zeros((2, H + 1, W, 3), np.float32), "shape"),
])
def test_bad_frames_are_refused(bad_frame, message):
  agent = fakes.small_agent("standard")
  with pytest.raises(ValueError, match=message):
    agent(tf.constant(bad_frame), agent.initial_state(2))
