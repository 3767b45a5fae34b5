"""The rollout-policy distillation loss (paper Sec. 3.1; talk, distillation slide)."""
from typing import NamedTuple

import tensorflow as tf

from i2a import types


class DistillationExtra(NamedTuple):
  """Diagnostics: both policies' entropies, float32 [B...] each."""
  rollout_entropy: tf.Tensor
  policy_entropy: tf.Tensor


def distillation_loss(rollout_logits: tf.Tensor, policy_logits: tf.Tensor) -> types.LossOutput:
  """Cross-entropy from the I2A policy to the rollout policy, on the same real observation.

  l_dist = -sum_a stop_gradient(pi(a|o)) log pi_hat(a|o): the labels are `stop_gradient(softmax(
  policy_logits))`, so only the rollout policy receives gradients (every public third-party port we know
  lets this loss move the I2A policy too).

  Args:
    rollout_logits: float32 [..., A], the rollout policy's logits.
    policy_logits: float32 [..., A], the I2A policy's logits.

  Returns:
    LossOutput(loss float32 [...] per example, not reduced; extra DistillationExtra).
  """
  if rollout_logits.shape[-1] != policy_logits.shape[-1]:
    raise ValueError(f"distillation_loss: action dimensions differ, rollout {rollout_logits.shape} vs "
                     f"policy {policy_logits.shape}.")
  labels = tf.stop_gradient(tf.nn.softmax(policy_logits))
  loss = tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=rollout_logits)

  def entropy(logits):
    return -tf.reduce_sum(tf.nn.softmax(logits) * tf.nn.log_softmax(logits), axis=-1)

  return types.LossOutput(loss, DistillationExtra(tf.stop_gradient(entropy(rollout_logits)),
                                                  tf.stop_gradient(entropy(policy_logits))))
