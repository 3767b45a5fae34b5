"""Training loss of a learned environment model, and the frame error rate used to evaluate it.

The paper trains its environment models by the negative log-likelihood of the next frame and reward
(paper Sec. 3.2, l_model); it does not give the reward term's weight, so it is an argument here.
"""
from typing import Optional, Sequence, Union

import numpy as np
import tensorflow as tf

from i2a import types
from i2a.env_models import frame_heads


def reward_bin_indices(reward: tf.Tensor, reward_bins: Sequence[float]) -> tf.Tensor:
  """Index of the nearest reward bin (first on ties): float32 [B] -> int32 [B]."""
  bins = tf.constant(np.asarray(reward_bins, np.float32))
  reward = tf.convert_to_tensor(reward, tf.float32)
  return tf.argmin(tf.abs(reward[:, tf.newaxis] - bins), axis=-1, output_type=tf.int32)


def frame_nll(frame_logits: tf.Tensor, target_frame: tf.Tensor,
              frame_head: frame_heads.FrameHead) -> tf.Tensor:
  """Negative log-likelihood of the target frame, summed over pixels.

  Args:
    frame_logits: float32 [B, H, W, 3] ('bernoulli') or [B, H, W, P] ('palette').
    target_frame: float32 [B, H, W, 3] in [0, 1], the true next frame.
    frame_head: which head produced the logits.

  Returns:
    float32 [B]: 'bernoulli' sums sigmoid cross-entropy over H, W and the 3 channels (paper Sec. 3.2);
    'palette' sums softmax cross-entropy against the nearest-palette index over H and W.
  """
  target_frame = tf.convert_to_tensor(target_frame, tf.float32)
  spatial_ok = frame_logits.shape[:-1].is_compatible_with(target_frame.shape[:-1])
  if not spatial_ok or frame_logits.shape[-1] != frame_head.num_channels:
    raise ValueError(f"{frame_head.kind} frame loss: frame_logits {frame_logits.shape} must be "
                     f"{target_frame.shape[:-1] + [frame_head.num_channels]} for target {target_frame.shape}")
  target = frame_head.target(target_frame)
  if frame_head.kind == "bernoulli":
    per_channel = tf.nn.sigmoid_cross_entropy_with_logits(labels=target, logits=frame_logits)
    return tf.reduce_sum(per_channel, axis=[1, 2, 3])
  per_pixel = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=target, logits=frame_logits)
  return tf.reduce_sum(per_pixel, axis=[1, 2])


def reward_nll(reward_logits: tf.Tensor, target: tf.Tensor,
               reward_bins: Optional[Sequence[float]]) -> tf.Tensor:
  """Negative log-likelihood of the reward (Sokoban) or of the events (MiniPacman).

  Args:
    reward_logits: float32 [B, bins] (categorical over reward bins) or [B, E] (one logit per event).
    target: with `reward_bins`, float32 [B] true rewards, scored against the nearest bin (softmax
      cross-entropy); without, float32 [B, E] event indicators in {0, 1} (sigmoid cross-entropy summed
      over the E independent events).
    reward_bins: the bin values, or None for events.

  Returns:
    float32 [B].
  """
  target = tf.convert_to_tensor(target, tf.float32)
  if reward_bins is not None:
    if reward_logits.shape[-1] != len(reward_bins) or target.shape.rank != 1:
      raise ValueError(f"reward loss: need reward_logits [B, {len(reward_bins)}] and rewards [B], got "
                       f"{reward_logits.shape} and {target.shape}")
    labels = reward_bin_indices(target, reward_bins)
    return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=reward_logits)
  if target.shape.rank != 2 or target.shape[-1] != reward_logits.shape[-1]:
    raise ValueError(f"event loss: events {target.shape} must match event logits {reward_logits.shape}")
  return tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=target, logits=reward_logits), -1)


def env_model_loss(logits: types.EnvModelLogits,
                   target_frame: tf.Tensor,
                   target_reward_or_events: Optional[tf.Tensor] = None,
                   *,
                   frame_head: Union[str, frame_heads.FrameHead] = "palette",
                   palette: Optional[frame_heads.PaletteLike] = None,
                   reward_bins: Optional[Sequence[float]] = None,
                   reward_weight: float = 1.0) -> types.LossOutput:
  """l_model = frame NLL + reward_weight * reward NLL, per example.

  Args:
    logits: the model's `logits(frame_stack, action)`; `reward_logits` None (frames-only model) makes
      the reward term 0 and ignores `target_reward_or_events`.
    target_frame: float32 [B, H, W, 3] in [0, 1], the true next frame.
    target_reward_or_events: float32 [B] rewards (with `reward_bins`) or [B, E] events (without).
    frame_head: 'palette' or 'bernoulli' (with `palette`), or a model's `FrameHead`.
    palette: [P, 3] colours for frame_head='palette'.
    reward_bins: Sokoban's reward bin values; None for MiniPacman's events.
    reward_weight: weight of the reward term (not given by the paper).

  Returns:
    LossOutput(loss float32 [B], extra=(frame_loss float32 [B], reward_loss float32 [B])).
  """
  head = frame_heads.as_frame_head(frame_head, palette)
  frame_loss = frame_nll(logits.frame_logits, target_frame, head)
  if logits.reward_logits is None:
    reward_loss = tf.zeros_like(frame_loss)
  else:
    if target_reward_or_events is None:
      raise ValueError("env_model_loss: the model predicts rewards/events but no target was given")
    reward_loss = reward_nll(logits.reward_logits, target_reward_or_events, reward_bins)
  loss = frame_loss + reward_weight * reward_loss
  return types.LossOutput(loss=loss, extra=(frame_loss, reward_loss))


def frame_error_rate(pred_frame: tf.Tensor, target_frame: tf.Tensor, tolerance: float = 0.1) -> tf.Tensor:
  """Fraction of pixels whose colour is wrong: some channel differs by more than `tolerance`.

  The default 0.1 (about 25/255) ignores the 0.05 steps between MiniPacman's fading ghost colours.

  Args:
    pred_frame: float32 [B, H, W, 3] in [0, 1].
    target_frame: float32 [B, H, W, 3] in [0, 1].
    tolerance: largest per-channel difference still counted as the same colour, >= 0.

  Returns:
    float32 [B] in [0, 1].
  """
  if tolerance < 0:
    raise ValueError(f"frame_error_rate: tolerance must be >= 0, got {tolerance}")
  pred_frame = tf.convert_to_tensor(pred_frame, tf.float32)
  target_frame = tf.convert_to_tensor(target_frame, tf.float32)
  if not pred_frame.shape.is_compatible_with(target_frame.shape) or pred_frame.shape.rank != 4:
    raise ValueError(f"frame_error_rate: frames must both be [B, H, W, 3], got {pred_frame.shape} and "
                     f"{target_frame.shape}")
  wrong = tf.reduce_max(tf.abs(pred_frame - target_frame), axis=-1) > tolerance
  return tf.reduce_mean(tf.cast(wrong, tf.float32), axis=[1, 2])
