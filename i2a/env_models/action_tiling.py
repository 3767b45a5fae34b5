"""Broadcasting a discrete action to every pixel: the environment models' action input (paper Fig. 2,
"one-hot, tile"; talk, SizePreservingConvNetModel)."""
import tensorflow as tf

from i2a import frame_stack as frame_stack_lib
from i2a import layers


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


def action_conditioned_input(frame_stack: tf.Tensor, action: tf.Tensor, num_actions: int) -> tf.Tensor:
  """concat(last frame, one-hot action tiled to every pixel), the input of every learned env model.

  Args:
    frame_stack: float32 (or bfloat16 / float16) [B, H, W, 3 * S] in [0, 1], newest frame in the last 3
      channels; S >= 1. The result has its dtype.
    action: int32 [B] in [0, num_actions).
    num_actions: the size of the one-hot code.

  Returns:
    [B, H, W, 3 + num_actions], the dtype of `frame_stack`.
  """
  frame_stack = layers.floating_input(frame_stack)
  action = tf.convert_to_tensor(action)
  if frame_stack.shape.rank != 4 or frame_stack.shape[-1] is None or frame_stack.shape[-1] % 3:
    raise ValueError(f"frame_stack must be [B, H, W, 3 * S], got shape {frame_stack.shape}")
  if action.shape.rank != 1 or not action.dtype.is_integer:
    raise ValueError(f"action must be an integer [B] tensor, got {action.dtype.name} {action.shape}")
  last_frame = frame_stack_lib.last_frame(frame_stack)  # Order-1 model: only the newest frame (paper Sec. 3.1).
  # Paper Fig. 2: the one-hot action tiled to every pixel, stacked with the frame.
  return tf.concat([last_frame, tile_action(action, num_actions, last_frame)], axis=-1)
