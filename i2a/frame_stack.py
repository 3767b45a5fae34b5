"""The agent's recurrent state: a stack of the last frames on the channel axis (talk, "I2AAgent" slide)."""
import tensorflow as tf

FRAME_CHANNELS = 3  # RGB.


def update_frame_stack(frame_stack: tf.Tensor, frame: tf.Tensor) -> tf.Tensor:
  """Drops the oldest frame of the stack and appends `frame` as the newest.

  The newest frame always occupies the last 3 channels; CopyModel relies on this (the talk's notebook).
  Any number of leading axes is allowed, so the same function serves the agent ([B, ...]) and the
  imagination path ([B, num_actions, ...]).

  Args:
    frame_stack: float32 [..., H, W, 3 * S].
    frame: float32 [..., H, W, 3].

  Returns:
    float32 [..., H, W, 3 * S], the stack with `frame` in its last 3 channels.
  """
  frame = tf.convert_to_tensor(frame)
  if frame.shape[-1] is not None and frame.shape[-1] != FRAME_CHANNELS:
    raise ValueError(f"update_frame_stack: frame must have {FRAME_CHANNELS} channels, got shape {frame.shape}.")
  stack_channels = frame_stack.shape[-1]
  if stack_channels is not None and stack_channels % FRAME_CHANNELS:
    raise ValueError(f"update_frame_stack: frame stack channels ({stack_channels}) are not a multiple of "
                     f"{FRAME_CHANNELS}.")
  return tf.concat([frame_stack[..., FRAME_CHANNELS:], tf.cast(frame, frame_stack.dtype)], axis=-1)


def last_frame(frame_stack: tf.Tensor) -> tf.Tensor:
  """The newest frame of a stack: float32 [..., H, W, 3 * S] -> [..., H, W, 3]."""
  return frame_stack[..., -FRAME_CHANNELS:]
