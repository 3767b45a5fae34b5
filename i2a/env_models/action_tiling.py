"""Broadcasting a discrete action to every pixel: the environment models' action input (paper Fig. 2,
"one-hot, tile"; talk, SizePreservingConvNetModel)."""
import tensorflow as tf


def tile_action(action: tf.Tensor, num_actions: int, frame: tf.Tensor) -> tf.Tensor:
  """One-hot `action` broadcast over the spatial axes of `frame`.

  Args:
    action: int32 [B].
    num_actions: the size of the one-hot.
    frame: float32 [B, H, W, C]; only its shape is used.

  Returns:
    float32 [B, H, W, num_actions].
  """
  one_hot = tf.one_hot(tf.cast(action, tf.int32), num_actions, dtype=frame.dtype)
  shape = tf.shape(frame)
  return tf.broadcast_to(one_hot[:, tf.newaxis, tf.newaxis, :],
                         tf.stack([shape[0], shape[1], shape[2], num_actions]))


def model_input(frame_stack: tf.Tensor, action: tf.Tensor, num_actions: int) -> tf.Tensor:
  """concat(frame_stack, tiled one-hot action): float32 [B, H, W, C + num_actions]."""
  return tf.concat([frame_stack, tile_action(action, num_actions, frame_stack)], axis=-1)
