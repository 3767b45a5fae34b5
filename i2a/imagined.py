"""What the imagination path imagined, and its compact form that actors send to the learner.

I2A's cost is the frozen environment model, run rollout_depth times per action for every step (paper
Sec. 3.1). The paper's A3C workers computed that forward pass once and used it both to act and for the
gradient. With IMPALA's actor-learner split the learner would run it a second time on every frame the
actors already imagined; instead the actor ships what it imagined with the trajectory and the learner
re-encodes it. This changes no gradient: the environment model is frozen and the rollout actions are
samples, so the imagined frames, rewards and actions are constants of the loss (paper Sec. 3.2); only the
rollout encoder, the model-free path, the heads and the distilled policy are recomputed and trained.

Compactly: a palette frame head's imagined frames are palette colours (argmax over the palette), so a
frame is stored as one uint8 palette index per pixel, 1/12 of its float32 RGB size. Models whose frames
are not palette colours (the copy model, Bernoulli heads) are not shipped: the learner recomputes them.
"""
from typing import NamedTuple, Optional

import numpy as np
import tensorflow as tf

from i2a.env_models import minipacman_model
from i2a.env_models import sokoban_model


class Imagination(NamedTuple):
  """One imagined rollout per action (rollout i starts with action i), rollout_depth D steps each.

  Attributes:
    frames: float32 [B, A, D, H, W, 3] in [0, 1], the imagined frames as the model output them.
    rewards: float32 [B, A, D], the imagined rewards.
    actions: int32 [B, A, D], the imagined actions (step 0: the rollout's own action).
    terminal: None, or float32 [B, A, D], 1 where the model predicts that the step ends the episode
      (`predicted_terminal` of the environment model). Recorded for agents that sum imagined returns
      (the Monte Carlo agent); I2A's encoder reads frames and rewards only (paper Sec. 3.2).
  """
  frames: tf.Tensor
  rewards: tf.Tensor
  actions: tf.Tensor
  terminal: Optional[tf.Tensor] = None


class CompactImagination(NamedTuple):
  """`Imagination` as shipped in a `types.Trajectory` ([T+1, B, ...] there; [B, ...] per step).

  Attributes:
    frame_index: uint8 [..., A, D, H, W], palette index of every imagined pixel.
    reward: float32 [..., A, D].
    action: uint8 [..., A, D].
    terminal: None, or uint8 [..., A, D] (see `Imagination.terminal`).
  """
  frame_index: tf.Tensor
  reward: tf.Tensor
  action: tf.Tensor
  terminal: Optional[tf.Tensor] = None


def palette_of(agent) -> Optional[np.ndarray]:
  """float32 [P, 3] palette of the agent's (`agent_interface.Agent`) environment model when its imagined
  frames are palette colours (a paper model's palette frame head with at most 256 colours), else None
  (nothing can be shipped: no model, the talk's models, or a Bernoulli head)."""
  model = agent.env_model
  if not isinstance(model, (sokoban_model.SokobanEnvModel, minipacman_model.MiniPacmanEnvModel)):
    return None
  head = model.frame_head
  if head.kind != "palette" or len(head.palette) > 256:
    return None
  return np.asarray(head.palette, np.float32)


def _colour_keys(palette: np.ndarray) -> Optional[np.ndarray]:
  """int32 [P] 24-bit keys of the palette's colours in 0..255 steps, or None unless they are exact
  (every colour a multiple of 1/255, as the games' uint8 palettes are) and distinct."""
  levels = np.round(np.asarray(palette, np.float64) * 255.0)
  if not np.allclose(levels / 255.0, palette, rtol=0, atol=1e-6):
    return None
  keys = (levels.astype(np.int64) @ np.array([65536, 256, 1])).astype(np.int32)
  return keys if len(np.unique(keys)) == len(keys) else None


def nearest_palette_index(frames: tf.Tensor, palette: np.ndarray) -> tf.Tensor:
  """int32 [...]: the index of the palette colour nearest to each pixel of float32 [..., 3] `frames`
  (first on ties): every pixel's squared distance to every colour, then the argmin."""
  colours = tf.constant(palette, tf.float32)
  distance = tf.reduce_sum(tf.square(frames[..., tf.newaxis, :] - colours), axis=-1)  # [..., P]
  return tf.argmin(distance, axis=-1, output_type=tf.int32)


def compact(imagination: Imagination, palette: np.ndarray) -> CompactImagination:
  """Palette frames -> uint8 indices (exact: every imagined pixel is a palette colour); actions -> uint8.

  A pixel's colour is matched by its 24-bit integer key against the palette's keys: 3 to 5 times
  cheaper than the nearest-colour search (the actor's largest non-model cost in launch.profile_train),
  and the same index for every palette colour. Palettes whose colours are not multiples of 1/255 use
  the nearest-colour search.
  """
  frames = tf.cast(imagination.frames, tf.float32)
  keys = _colour_keys(palette)
  if keys is None:
    index = nearest_palette_index(frames, palette)
  else:
    levels = tf.cast(tf.round(frames * 255.0), tf.int32)
    key = levels[..., 0] * 65536 + levels[..., 1] * 256 + levels[..., 2]
    hit = tf.cast(tf.equal(key[..., tf.newaxis], tf.constant(keys)), tf.int32)  # [..., P], one 1 per pixel.
    index = tf.reduce_sum(hit * tf.range(len(keys), dtype=tf.int32), axis=-1)
  terminal = None if imagination.terminal is None else tf.cast(imagination.terminal, tf.uint8)
  return CompactImagination(tf.cast(index, tf.uint8), tf.cast(imagination.rewards, tf.float32),
                            tf.cast(imagination.actions, tf.uint8), terminal)


def expand(compact_imagination: CompactImagination, palette: np.ndarray) -> Imagination:
  """The inverse of `compact`: frames float32 [..., H, W, 3], rewards float32, actions int32."""
  colours = tf.constant(palette, tf.float32)
  frames = tf.gather(colours, tf.cast(compact_imagination.frame_index, tf.int32))
  terminal = compact_imagination.terminal
  return Imagination(frames, tf.cast(compact_imagination.reward, tf.float32),
                     tf.cast(compact_imagination.action, tf.int32),
                     None if terminal is None else tf.cast(terminal, tf.float32))


def bytes_per_step(num_actions: int, rollout_depth: int, height: int, width: int,
                   terminal: bool = False) -> int:
  """Bytes of one environment step's `CompactImagination`: indices, float32 rewards, uint8 actions and,
  with `terminal`, uint8 episode ends."""
  rollouts = num_actions * rollout_depth
  return rollouts * (height * width + 4 + 1 + int(terminal))


def stack_arrays(steps: list) -> Optional[CompactImagination]:
  """T per-step `CompactImagination`s of NumPy arrays [B, ...] -> one of [T, B, ...]; None if the
  steps carry none. Fields a step leaves None stay None."""
  if steps[0] is None:
    return None
  return CompactImagination(*(None if field[0] is None else np.stack(field) for field in zip(*steps)))


def batch_bytes(agent, batch_size: int, unroll_length: int) -> int:
  """Bytes of the imagination in one learner batch of [T+1, B] steps (0 when nothing is shipped)."""
  if palette_of(agent) is None or agent.rollout_depth is None:
    return 0
  per_step = bytes_per_step(agent.num_actions, agent.rollout_depth, agent.height, agent.width,
                            terminal=agent.records_terminal)
  return per_step * (unroll_length + 1) * batch_size
