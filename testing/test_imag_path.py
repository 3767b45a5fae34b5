"""The imagination path's data flow, proven with recording fakes (paper Sec. 3; talk, ImagPath slides)."""
import numpy as np
import pytest
import tensorflow as tf

import i2a
from testing import recording_fakes

A, H, W = 5, 6, 7


def _path(depth, policy_action=2):
  model = recording_fakes.RecordingEnvModel()
  policy = recording_fakes.ConstantPolicy(A, policy_action)
  path = i2a.ImagPath(A, depth, model, policy, recording_fakes.RewardAndActionFeature(), lstm_size=4)
  path._lstm = recording_fakes.RecordingCore(4)  # pylint: disable=protected-access
  return path, model, policy


@pytest.mark.parametrize("batch_size", [1, 3])
def test_first_action_of_rollout_i_is_action_i(batch_size):
  path, model, _ = _path(depth=3)
  path(tf.zeros([batch_size, H, W, 6]))
  np.testing.assert_array_equal(model.actions[0], np.tile(np.arange(A), batch_size))
  # Later steps use the rollout policy's actions.
  for later in model.actions[1:]:
    np.testing.assert_array_equal(later, np.full(batch_size * A, 2))
  assert len(model.actions) == 3


@pytest.mark.parametrize("depth", [1, 2, 5])
def test_features_reach_the_lstm_in_reverse_order(depth):
  path, _, _ = _path(depth)
  path(tf.zeros([3, H, W, 3]))
  core = path._lstm  # pylint: disable=protected-access
  # The fake model's reward is the index of the imagined step: the LSTM must see depth-1, ..., 0.
  seen_steps = [int(x[0, 0]) for x in core.inputs]
  assert seen_steps == list(range(depth))[::-1]
  # The last LSTM input is step 0, which holds the forced first actions.
  np.testing.assert_array_equal(core.inputs[-1][:, 1], np.tile(np.arange(A), 3))


def test_rollout_policy_sees_the_last_imagined_frame_and_stack_is_updated():
  path, model, policy = _path(depth=3)
  path(tf.zeros([2, H, W, 6]))
  # The policy acts on the frame predicted by the previous model call (fill value (step + 1) / 100).
  np.testing.assert_allclose(policy.frames[0], 0.01)
  np.testing.assert_allclose(policy.frames[1], 0.02)
  # The model's input stack has the previous prediction as its newest frame.
  np.testing.assert_allclose(model.input_frames[0], 0.0)
  np.testing.assert_allclose(model.input_frames[1], 0.01)
  np.testing.assert_allclose(model.input_frames[2], 0.02)


@pytest.mark.parametrize("batch_size", [1, 3])
def test_output_is_final_encoding_of_each_rollout_concatenated(batch_size):
  path, _, _ = _path(depth=2)
  out = path(tf.zeros([batch_size, H, W, 3])).numpy()
  assert out.shape == (batch_size, A * 4) and out.dtype == np.float32
  # RecordingCore outputs its last input padded: [reward of step 0 = 0, action i, 0, 0] for rollout i.
  expected = np.stack([np.zeros(A), np.arange(A), np.zeros(A), np.zeros(A)], -1).reshape(-1)
  np.testing.assert_allclose(out, np.tile(expected, (batch_size, 1)))


def test_copy_model_returns_exactly_the_last_frame():
  stack = np.random.default_rng(0).uniform(size=(3, H, W, 9)).astype(np.float32)
  frame, reward, bins = i2a.CopyModel(4)(tf.constant(stack), tf.constant([0, 1, 2]))
  np.testing.assert_array_equal(frame.numpy(), stack[..., 6:9])
  np.testing.assert_array_equal(reward.numpy(), np.zeros(3, np.float32))
  np.testing.assert_array_equal(bins.numpy(), np.zeros((3, 4), np.float32))


def test_no_imag_path_is_zero_width():
  out = i2a.NoImagPath()(tf.zeros([3, H, W, 3]))
  assert out.shape == (3, 0) and out.dtype == tf.float32


def test_env_model_outputs_do_not_pass_gradients():
  model = i2a.SizePreservingConvNetModel(A, (-1.0, 0.0, 1.0))
  path = i2a.ImagPath(A, 2, model, i2a.RandomPolicy(A, seed=0), i2a.SingleImagFeature(8, A), lstm_size=4)
  with tf.GradientTape() as tape:
    out = path(tf.random.uniform([2, H, W, 3]))
  grads = tape.gradient(out, model.trainable_variables)
  assert all(g is None for g in grads)


def test_update_frame_stack_matches_numpy():
  stack = np.random.default_rng(1).uniform(size=(2, H, W, 12)).astype(np.float32)
  frame = np.random.default_rng(2).uniform(size=(2, H, W, 3)).astype(np.float32)
  expected = np.concatenate([stack[..., 3:], frame], axis=-1)
  np.testing.assert_array_equal(i2a.update_frame_stack(tf.constant(stack), tf.constant(frame)).numpy(), expected)
  # A stack of one frame is replaced by the new frame.
  np.testing.assert_array_equal(i2a.update_frame_stack(tf.constant(stack[..., :3]), frame).numpy(), frame)
  with pytest.raises(ValueError, match="3 channels"):
    i2a.update_frame_stack(tf.constant(stack), tf.constant(stack[..., :4]))
