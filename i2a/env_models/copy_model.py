"""CopyModel: the copy-model baseline's "environment model" (talk, "CopyModel" slide; paper Sec. 4.1).

It returns its input frame, so an I2A built with it has the same parameters and compute as I2A but no
information from imagination.
"""
import sonnet as snt
import tensorflow as tf

from i2a import frame_stack as frame_stack_lib
from i2a import types


@snt.allow_empty_variables
class CopyModel(snt.Module):
  """Ignores the action; predicts the last frame of the stack, zero reward and zero reward bins."""

  def __init__(self, num_reward_bins: int, name: str = "copy_model"):
    """Creates the sub-modules; variables are created on the first call.

    Args:
      num_reward_bins: width of the (all-zero) reward-bin output (the talk's demo: 3).
      name: module name.
    """
    super().__init__(name=name)
    if num_reward_bins < 0:
      raise ValueError(f"CopyModel: num_reward_bins must be >= 0, got {num_reward_bins}.")
    self.num_reward_bins = num_reward_bins

  def __call__(self, frame_stack: tf.Tensor, action: tf.Tensor) -> types.EnvModelOutput:
    """float32 [B, H, W, 3S], int32 [B] -> (frame [B, H, W, 3], reward [B], reward_bins [B, bins]).

    The talk builds the zeros with the static batch size; we use the dynamic one so any batch works.
    """
    del action  # The copy model is action-independent by design.
    batch_size = tf.shape(frame_stack)[0]
    reward = tf.zeros(tf.expand_dims(batch_size, 0), dtype=tf.float32)
    reward_bins = tf.zeros(tf.stack([batch_size, self.num_reward_bins]), dtype=tf.float32)
    return types.EnvModelOutput(frame_stack_lib.last_frame(frame_stack), reward, reward_bins)

  def predicted_terminal(self, output: types.EnvModelOutput) -> tf.Tensor:
    """bool [B]: never; nothing happens in a copied frame, so no imagined episode ends."""
    return tf.zeros(tf.shape(output.reward), tf.bool)
