"""SizePreservingConvNetModel: the talk's small environment model (talk, "The Environment Model" slide).

The paper's full-size models are in sokoban_model.py and minipacman_model.py; this one is the tutorial's,
and a natural "poor model" for the paper's Fig. 5 experiment.
"""
from typing import Sequence

import sonnet as snt
import tensorflow as tf

from i2a import types
from i2a.env_models import action_tiling


class SizePreservingConvNetModel(snt.Module):
  """Conv trunk on concat(frame stack, tiled one-hot action); a Bernoulli frame head and a reward-bin head.

  Frame head: conv 3x3 to 3 channels + sigmoid, each pixel channel a Bernoulli variable whose mean is fed
  back into the rollout. Reward head: conv 8 3x3 stride 2 + ReLU, flatten, Linear(bins), softmax; the
  reward is the probability-weighted sum of the bin values (the talk's notebook).
  """

  def __init__(self, num_actions: int, reward_bins: Sequence[float],
               name: str = "size_preserving_conv_net_model"):
    """Creates the sub-modules; variables are created on the first call.

    Args:
      num_actions: A, the length of the one-hot action tiled over every pixel.
      reward_bins: the reward values the reward head predicts a categorical over (the talk: -1, 0, 1).
      name: module name.
    """
    super().__init__(name=name)
    if num_actions < 1 or not reward_bins:
      raise ValueError(f"SizePreservingConvNetModel: need num_actions >= 1 and at least one reward bin, "
                       f"got {num_actions}, {reward_bins}.")
    self.num_actions = num_actions
    self.reward_bins = tf.constant(reward_bins, dtype=tf.float32)
    self._trunk = snt.Conv2D(16, 3, stride=1, name="trunk")
    self._reward_conv = snt.Conv2D(8, 3, stride=2, name="reward_conv")
    self._reward_linear = snt.Linear(len(reward_bins), name="reward_linear")
    self._frame_conv = snt.Conv2D(3, 3, stride=1, name="frame_conv")
    self._flatten_layer = snt.Flatten()

  def logits(self, frame_stack: tf.Tensor, action: tf.Tensor) -> types.EnvModelLogits:
    """Unnormalised predictions: frame_logits [B, H, W, 3] (Bernoulli), reward_logits [B, bins].

    The talk's small demo model always computes in float32 (a bfloat16 stack is cast up): it is cheap.
    """
    frame_stack = tf.cast(frame_stack, tf.float32)
    hidden = tf.nn.relu(self._trunk(action_tiling.model_input(frame_stack, action, self.num_actions)))
    reward_hidden = tf.nn.relu(self._reward_conv(hidden))
    reward_logits = self._reward_linear(self._flatten_layer(reward_hidden))
    return types.EnvModelLogits(self._frame_conv(hidden), reward_logits)

  def __call__(self, frame_stack: tf.Tensor, action: tf.Tensor) -> types.EnvModelOutput:
    """float32 [B, H, W, 3S], int32 [B] -> (frame [B, H, W, 3], reward [B], reward_bins [B, bins])."""
    logits = self.logits(frame_stack, action)
    reward_probs = tf.nn.softmax(logits.reward_logits)
    reward = tf.reduce_sum(reward_probs * self.reward_bins, axis=-1)
    return types.EnvModelOutput(tf.sigmoid(logits.frame_logits), reward, reward_probs)

  def predicted_terminal(self, output: types.EnvModelOutput) -> tf.Tensor:
    """bool [B]: never; the talk's demo model's reward bins (-1, 0, 1) name no episode end."""
    return tf.zeros(tf.shape(output.reward), tf.bool)
