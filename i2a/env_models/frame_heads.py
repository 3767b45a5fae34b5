"""Frames into and out of a learned environment model: its action-conditioned input, and its frame heads.

Input (paper Sec. 3.2 and Fig. 2): the last frame of the stack with the one-hot action tiled to every
pixel; the paper's models are order-1, so earlier frames of the stack are ignored (paper Sec. 3.1).

Output: two frame heads, chosen by name:

* `'palette'` (our default): frame logits [B, H, W, P], a categorical over the game's P palette colours
  per pixel. The rollout frame is `palette[argmax]` and the training target is the index of the nearest
  palette colour of each pixel. We default to it because every working public port of I2A used a
  categorical over the colour palette: Bernoulli means are blurry where the model is unsure, and blurry
  frames fed back into the model drift out of the training distribution within a few steps. With argmax
  feedback every imagined frame is made of real colours, so rollouts stay crisp and in distribution.
* `'bernoulli'` (the paper's and the talk's choice): frame logits [B, H, W, 3], one Bernoulli variable per
  pixel channel, trained with sigmoid cross-entropy (paper Sec. 3.2); the rollout frame is
  `sigmoid(logits)`, the probabilities, as the talk's SizePreservingConvNetModel feeds them back.

The palette is given by the caller (the environment packages export `PALETTE` arrays; this module does not
import them) as uint8 [P, 3] in 0..255 or float [P, 3] in [0, 1].
"""
import dataclasses
from typing import Optional, Union

import numpy as np
import tensorflow as tf


FRAME_HEADS = ("palette", "bernoulli")

PaletteLike = Union[np.ndarray, tuple, list]


def normalize_palette(palette: PaletteLike) -> np.ndarray:
  """Validates a colour palette and returns it as float32 [P, 3] in [0, 1].

  Args:
    palette: uint8 [P, 3] in 0..255 (divided by 255) or float [P, 3] in [0, 1], P >= 2 distinct colours.

  Raises:
    ValueError: on a wrong shape, values out of range, fewer than 2 or repeated colours.
  """
  array = np.asarray(palette)
  if array.ndim != 2 or array.shape[1] != 3 or array.shape[0] < 2:
    raise ValueError(f"palette must have shape [P, 3] with P >= 2 colours, got shape {array.shape}")
  if array.dtype == np.uint8:
    array = array.astype(np.float32) / 255.0
  elif np.issubdtype(array.dtype, np.floating):
    if array.min() < 0.0 or array.max() > 1.0:
      raise ValueError(f"a float palette must lie in [0, 1], got range [{array.min()}, {array.max()}]")
    array = array.astype(np.float32)
  else:
    raise ValueError(f"palette must be uint8 (0..255) or float (0..1), got dtype {array.dtype}")
  if len(np.unique(array, axis=0)) != len(array):
    raise ValueError(f"palette has repeated colours: {array.tolist()}")
  return array


def palette_indices(frame: tf.Tensor, palette: PaletteLike) -> tf.Tensor:
  """Index of the nearest palette colour (Euclidean in RGB, first on ties) of every pixel.

  Pixels between palette colours (e.g. MiniPacman's fading edible ghosts) map to the closest colour.

  Args:
    frame: float32 [..., 3] in [0, 1].
    palette: see `normalize_palette`.

  Returns:
    int32 [...], indices into the palette.
  """
  colours = tf.constant(normalize_palette(palette))
  frame = tf.convert_to_tensor(frame, tf.float32)
  if frame.shape.rank is None or frame.shape[-1] != 3:
    raise ValueError(f"frame must have 3 colour channels last, got shape {frame.shape}")
  sq_dist = tf.reduce_sum(tf.square(frame[..., tf.newaxis, :] - colours), axis=-1)  # [..., P]
  return tf.argmin(sq_dist, axis=-1, output_type=tf.int32)


@dataclasses.dataclass(frozen=True, eq=False)
class FrameHead:
  """A frame head: how many logit channels the model emits, and how they map to frames and targets.

  Attributes:
    kind: 'palette' or 'bernoulli'.
    palette: the colour palette (see `normalize_palette`); required for 'palette', ignored (but still
      validated and kept) for 'bernoulli'. Stored as float32 [P, 3] in [0, 1].
  """
  kind: str = "palette"
  palette: Optional[PaletteLike] = None

  def __post_init__(self):
    if self.kind not in FRAME_HEADS:
      raise ValueError(f"frame_head must be one of {FRAME_HEADS}, got {self.kind!r}")
    if self.kind == "palette" and self.palette is None:
      raise ValueError("frame_head='palette' needs a palette (e.g. the environment package's PALETTE)")
    if self.palette is not None:
      object.__setattr__(self, "palette", normalize_palette(self.palette))

  @property
  def num_channels(self) -> int:
    """Logit channels per pixel: P for 'palette', 3 for 'bernoulli'."""
    return len(self.palette) if self.kind == "palette" else 3

  def frame(self, frame_logits: tf.Tensor) -> tf.Tensor:
    """The rollout frame: float32 [B, H, W, 3] in [0, 1] from frame_logits [B, H, W, num_channels].

    'palette' gives exact palette colours (argmax, no gradient); 'bernoulli' gives sigmoid(logits).
    """
    if frame_logits.shape[-1] != self.num_channels:
      raise ValueError(f"{self.kind} frame head expects {self.num_channels} logit channels, "
                       f"got shape {frame_logits.shape}")
    if self.kind == "bernoulli":
      return tf.sigmoid(frame_logits)
    index = tf.argmax(frame_logits, axis=-1, output_type=tf.int32)
    return tf.gather(tf.constant(self.palette), index)

  def target(self, frame: tf.Tensor) -> tf.Tensor:
    """The training target of a true frame float32 [B, H, W, 3] in [0, 1].

    Returns:
      'palette': int32 [B, H, W] nearest-palette indices; 'bernoulli': the frame itself, float32.
    """
    if self.kind == "bernoulli":
      return tf.convert_to_tensor(frame, tf.float32)
    return palette_indices(frame, self.palette)


def as_frame_head(frame_head: Union[str, FrameHead], palette: Optional[PaletteLike] = None) -> FrameHead:
  """Builds a FrameHead from a name and palette, or passes a FrameHead through (then palette must be None)."""
  if isinstance(frame_head, FrameHead):
    if palette is not None:
      raise ValueError("pass either a FrameHead or a frame-head name with a palette, not both")
    return frame_head
  return FrameHead(kind=frame_head, palette=palette)
