"""Does a frozen environment model imagine the same rollouts in bfloat16 as in float32?

An I2A agent only sees its model through imagined rollouts (paper Sec. 3.1): the frames (palette
colours, the argmax of the frame logits) and the events or reward bins. A lower compute precision is
as accurate as float32 for this purpose when both precisions imagine the same rollouts: each precision
rolls out open-loop from the same start frames with the same actions, feeding back its own imagined
frames, and we count the imagined pixels and events on which the two agree.

    stats = rollout_agreement(model, start_frames, actions, tf.bfloat16)
    stats["pixel_agreement"], stats["event_disagreements"]
"""
import numpy as np
import tensorflow as tf

from i2a import rollouts
from i2a.env_models import minipacman_model


def _events(model, reward_bins: np.ndarray) -> np.ndarray:
  """What the model's reward output decides: MiniPacman's 5 events (probability above 0.5, as the
  model's evaluation counts them), otherwise the most likely reward bin."""
  if isinstance(model, minipacman_model.MiniPacmanEnvModel):
    return reward_bins > 0.5
  return np.argmax(reward_bins, axis=-1)[..., None]


def _rollout(model, step, frames: np.ndarray, actions: np.ndarray, dtype: tf.DType):
  """frames float32 [M, H, W, 3S], actions int32 [M, K] -> imagined frames [M, K, H, W, 3], events."""
  unrolled = step(tf.cast(tf.constant(frames), dtype), tf.constant(actions))
  return unrolled.frames.numpy(), _events(model, unrolled.reward_bins.numpy())


def rollout_agreement(model, start_frames: np.ndarray, actions: np.ndarray, dtype: tf.DType,
                      batch_size: int = 250) -> dict:
  """Agreement of `model`'s open-loop rollouts computed in `dtype` with its float32 rollouts.

  Args:
    model: an environment model `(frame_stack, action) -> EnvModelOutput` that computes in the dtype
      of its input (the paper's models; see i2a/layers.py).
    start_frames: uint8 [M, H, W, 3S] or float32 in [0, 1], the real start frames (stacks).
    actions: int [M, K], the actions of each rollout.
    dtype: the compute dtype to compare with float32, e.g. tf.bfloat16.
    batch_size: rollouts computed together.

  Returns:
    dict: 'rollouts' M, 'steps' K, 'pixel_agreement' (fraction of imagined pixels of equal colour over
    all M x K frames), 'event_agreement' (fraction of equal event / reward-bin decisions),
    'event_disagreements' (their number), 'first_step_pixel_agreement'.
  """
  frames = np.asarray(start_frames)
  frames = frames.astype(np.float32) / 255.0 if frames.dtype == np.uint8 else frames.astype(np.float32)
  actions = np.asarray(actions, np.int32)
  # The one rollout loop (i2a/rollouts.py), compiled once per precision.
  step = tf.function(lambda stack, acts: rollouts.open_loop(model, stack, acts, record_reward_bins=True),
                     autograph=False)
  equal_pixels, equal_first, equal_events, total_events = 0, 0, 0, 0
  for start in range(0, len(frames), batch_size):
    chunk, acts = frames[start:start + batch_size], actions[start:start + batch_size]
    ref_frames, ref_events = _rollout(model, step, chunk, acts, tf.float32)
    low_frames, low_events = _rollout(model, step, chunk, acts, dtype)
    same = np.all(ref_frames == low_frames, axis=-1)  # [m, K, H, W]
    equal_pixels += int(same.sum())
    equal_first += int(same[:, 0].sum())
    equal_events += int((ref_events == low_events).sum())
    total_events += ref_events.size
  pixels = actions.shape[0] * actions.shape[1] * frames.shape[1] * frames.shape[2]
  return dict(rollouts=len(frames), steps=actions.shape[1], pixel_agreement=equal_pixels / pixels,
              first_step_pixel_agreement=equal_first / (pixels / actions.shape[1]),
              event_agreement=equal_events / total_events, event_disagreements=total_events - equal_events)
