"""i2a/rollouts.py: the one imagined-rollout loop against a NumPy reference, for a frame stack of more
than one frame, given actions and a policy, any leading axes, and what it records."""
import numpy as np
import pytest
import sonnet as snt
import tensorflow as tf

from i2a import rollouts
from i2a import types


@snt.allow_empty_variables
class StackModel(snt.Module):
  """A fake model whose next frame mixes the whole stack and the action, so a wrong stack shows:
  frame' = (mean of the stack's frames + action / 10) mod 1; reward = action; reward_bins = [frame sum]."""

  def __call__(self, frame_stack, action):
    frames = tf.stack(tf.split(frame_stack, frame_stack.shape[-1] // 3, axis=-1), axis=0)
    shift = tf.cast(action, frame_stack.dtype)[:, None, None, None] / 10
    frame = tf.math.floormod(tf.reduce_mean(frames, axis=0) + shift, 1.0)
    reward = tf.cast(action, tf.float32)
    return types.EnvModelOutput(frame, reward, tf.reduce_sum(frame, axis=[1, 2, 3])[:, None])

  def predicted_terminal(self, output):
    return output.reward > 1.5


def numpy_open_loop(stack, actions):
  """The reference: push each imagined frame onto the stack, oldest frame out."""
  frames, stacks = [], stack.copy()
  for k in range(actions.shape[1]):
    parts = np.stack(np.split(stacks, stacks.shape[-1] // 3, axis=-1))
    frame = np.mod(parts.mean(axis=0) + actions[:, k, None, None, None] / 10, 1.0)
    frames.append(frame)
    stacks = np.concatenate([stacks[..., 3:], frame], axis=-1)
  return np.stack(frames, axis=1)


@pytest.mark.parametrize("stack_size", [1, 3], ids=["one_frame", "three_frames"])
def test_open_loop_matches_a_numpy_reference(stack_size):
  rng = np.random.default_rng(0)
  stack = rng.random((4, 5, 6, 3 * stack_size)).astype(np.float32)
  actions = rng.integers(0, 4, size=(4, 3)).astype(np.int32)
  unrolled = rollouts.open_loop(StackModel(), tf.constant(stack), actions, record_terminal=True,
                                record_reward_bins=True)
  expected = numpy_open_loop(stack, actions)
  assert unrolled.frames.shape == (4, 3, 5, 6, 3) and unrolled.frames.dtype == tf.float32
  np.testing.assert_allclose(unrolled.frames.numpy(), expected, rtol=1e-5, atol=1e-6)
  np.testing.assert_array_equal(unrolled.actions.numpy(), actions)
  np.testing.assert_array_equal(unrolled.rewards.numpy(), actions.astype(np.float32))
  np.testing.assert_array_equal(unrolled.terminal.numpy(), (actions > 1.5).astype(np.float32))
  np.testing.assert_allclose(unrolled.reward_bins.numpy()[..., 0], expected.sum(axis=(2, 3, 4)), rtol=1e-5)


def test_unroll_asks_for_later_actions_on_the_imagined_frames():
  stack = np.random.default_rng(1).random((2, 3, 3, 6)).astype(np.float32)
  seen = []

  def next_action(step, frame):
    seen.append((step, frame.numpy()))
    return tf.fill([2], step)

  unrolled = rollouts.unroll(StackModel(), tf.constant(stack), tf.constant([3, 0]), 3, next_action)
  assert [step for step, _ in seen] == [1, 2]
  np.testing.assert_allclose(seen[0][1], unrolled.frames.numpy()[:, 0])
  np.testing.assert_array_equal(unrolled.actions.numpy(), [[3, 1, 2], [0, 1, 2]])
  assert unrolled.terminal is None and unrolled.reward_bins is None
  expected = numpy_open_loop(stack, np.array([[3, 1, 2], [0, 1, 2]]))
  np.testing.assert_allclose(unrolled.frames.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_imagine_is_unroll_over_batch_and_actions():
  stack = np.random.default_rng(2).random((2, 3, 3, 3)).astype(np.float32)

  class Always(snt.Module):
    def __call__(self, frame):
      return tf.ones(tf.shape(frame)[:1], tf.int32), tf.zeros([tf.shape(frame)[0], 4])

  imagination = rollouts.imagine(tf.constant(stack), 4, 2, StackModel(), Always())
  assert imagination.frames.shape == (2, 4, 2, 3, 3, 3) and imagination.terminal is None
  for b in range(2):
    expected = numpy_open_loop(np.repeat(stack[b:b + 1], 4, axis=0), np.array([[a, 1] for a in range(4)]))
    np.testing.assert_allclose(imagination.frames.numpy()[b], expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(imagination.actions.numpy()[b], [[a, 1] for a in range(4)])


def test_the_model_outputs_carry_no_gradient():
  stack = tf.Variable(np.random.default_rng(3).random((2, 3, 3, 3)).astype(np.float32))
  with tf.GradientTape() as tape:
    unrolled = rollouts.open_loop(StackModel(), stack.read_value(), np.zeros((2, 2), np.int32))
    total = tf.reduce_sum(unrolled.frames)
  assert tape.gradient(total, stack) is None


def test_a_depth_below_one_is_refused():
  with pytest.raises(ValueError, match="depth must be >= 1"):
    rollouts.unroll(StackModel(), tf.zeros([1, 2, 2, 3]), tf.zeros([1], tf.int32), 0, lambda k, f: None)
