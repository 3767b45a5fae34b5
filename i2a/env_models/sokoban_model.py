"""The paper's Sokoban environment model (paper App. B.2, Fig. 8, as we recall it).

    frame [B, 80, 80, 3] ++ tiled one-hot action [B, 80, 80, A]
      -> conv 8x8 stride 8 (one feature vector per grid cell)            [B, 10, 10, C]
      -> size-preserving residual trunk of 3x3 convs                      [B, 10, 10, C]
      -> frame:  transposed conv 8x8 stride 8 -> frame logits            [B, 80, 80, P or 3]
      -> reward: conv 3x3 -> flatten -> Linear -> Linear -> bin logits    [B, bins]

With 8x8 sprites the stride-8 encoder and decoder see exactly one grid square per feature vector, so the
trunk works on the 10x10 game grid. `pixels_per_cell` lets tests run the same model on smaller sprites.
"""
import dataclasses
from typing import Optional, Sequence, Tuple

import numpy as np
import sonnet as snt
import tensorflow as tf

from i2a import games
from i2a import layers
from i2a import types
from i2a.env_models import action_tiling
from i2a.env_models import frame_heads

# Rewards of one Sokoban step under our env's sum convention: -0.1 per step, +1 onto a target, -1 off a
# target, +10 on solving (paper App. D), so a step earns -1.1, -0.1, +0.9 or +10.9 (the solving push).
SOKOBAN_REWARD_BINS = (-1.1, -0.1, 0.9, 10.9)
_LEAKY_SLOPE = 0.01  # Leaky ReLU slope 0.01 inside env models (paper App. B.2, as we recall it).


# The deliberately weak model of paper Fig. 5 ("poor": same family, far fewer parameters). Our sizes: 16
# channels and ONE trunk layer, so a grid cell sees only its 3x3 neighbourhood, while a push needs the cell
# two squares ahead (is the box blocked?): some pushes are unpredictable by construction, and the errors
# compound over a rollout. The 'good' sizes are the SokobanEnvModel defaults below.
# 'small' is the good model's family sized for a small grid (WORKSPACE.md, deviation 45): the study's
# 6x6 rooms at 2 pixels per cell have 7 kinds of square, where the paper's 128 channels were sized for
# 10x10 rooms of 80x80 frames; it keeps the two trunk layers (a push needs the square two cells ahead).
MODEL_SIZES = {
    "good": dict(channels=128, num_trunk_layers=2, reward_channels=32, reward_hidden=64),
    "poor": dict(channels=16, num_trunk_layers=1, reward_channels=8, reward_hidden=16),
    "small": dict(channels=32, num_trunk_layers=2, reward_channels=16, reward_hidden=64),
}


@dataclasses.dataclass(frozen=True)
class SokobanModelConfig:
  """Sizes of `SokobanEnvModel`; see its docstring."""
  num_actions: int = 5
  reward_bins: Tuple[float, ...] = SOKOBAN_REWARD_BINS
  channels: int = 128
  num_trunk_layers: int = 2  # "two size-preserving conv layers at 10x10" (paper Fig. 8).
  reward_channels: int = 32
  reward_hidden: int = 64
  predict_reward: bool = True
  pixels_per_cell: int = 8  # 8x8-pixel sprites (paper App. D).

  def __post_init__(self):
    object.__setattr__(self, "reward_bins", tuple(float(b) for b in self.reward_bins))
    for field in ("num_actions", "channels", "reward_channels", "reward_hidden", "pixels_per_cell"):
      if getattr(self, field) < 1:
        raise ValueError(f"SokobanModelConfig.{field} must be >= 1, got {getattr(self, field)}")
    if self.num_trunk_layers < 0:
      raise ValueError(f"SokobanModelConfig.num_trunk_layers must be >= 0, got {self.num_trunk_layers}")
    bins = self.reward_bins
    if len(bins) < 2 or any(a >= b for a, b in zip(bins, bins[1:])):
      raise ValueError(f"reward_bins must be >= 2 strictly increasing values, got {bins}")


class SokobanEnvModel(snt.Module):
  """Predicts the next Sokoban frame and a categorical reward from the last frame and an action.

  `logits` gives the training logits; `__call__` gives the rollout output derived from them: the frame
  head's frame (see `frame_heads`), reward bin probabilities `p = softmax(reward_logits)` and the expected
  reward `sum(p * reward_bins)`. With `predict_reward=False` (the paper's frames-only model, Fig. 4) the
  reward path is not built: reward is 0, reward_bins are zeros and reward_logits is None.
  """

  def __init__(self,
               num_actions: int = 5,
               reward_bins: Sequence[float] = SOKOBAN_REWARD_BINS,
               frame_head: str = "palette",
               palette: Optional[frame_heads.PaletteLike] = None,
               channels: int = 128,
               num_trunk_layers: int = 2,
               reward_channels: int = 32,
               reward_hidden: int = 64,
               predict_reward: bool = True,
               pixels_per_cell: int = 8,
               name: str = "sokoban_env_model"):
    """Builds the model (variables are created on the first call).

    Args:
      num_actions: size of the one-hot action code.
      reward_bins: the reward values of the categorical reward head, strictly increasing.
      frame_head: 'palette' (default) or 'bernoulli'; see `frame_heads`.
      palette: uint8 or float [P, 3] colour palette; required for 'palette'.
      channels: channels of the encoder and of every trunk layer.
      num_trunk_layers: number of residual 3x3 conv layers at grid resolution.
      reward_channels: channels of the reward path's conv.
      reward_hidden: units of the reward path's hidden Linear layer.
      predict_reward: False builds the frames-only variant.
      pixels_per_cell: sprite size; frames must be (rows * ppc) x (cols * ppc).
      name: module name.
    """
    super().__init__(name=name)
    self._config = SokobanModelConfig(
        num_actions=num_actions, reward_bins=tuple(reward_bins), channels=channels,
        num_trunk_layers=num_trunk_layers, reward_channels=reward_channels, reward_hidden=reward_hidden,
        predict_reward=predict_reward, pixels_per_cell=pixels_per_cell)
    self._frame_head = frame_heads.as_frame_head(frame_head, palette)
    ppc = pixels_per_cell
    # Paper Fig. 8: conv 8x8 stride 8 -> one cell per grid square; transposed conv 8x8 stride 8 back.
    self._encoder = layers.Conv2D(channels, ppc, stride=ppc, padding="VALID", name="encoder")
    self._trunk = [layers.Conv2D(channels, 3, name=f"trunk_{i}") for i in range(num_trunk_layers)]
    # SAME: with kernel == stride it pads nothing, and Sonnet then infers the output size as H = 10 * ppc.
    self._decoder = layers.Conv2DTranspose(
        self._frame_head.num_channels, ppc, stride=ppc, padding="SAME", name="decoder")
    if predict_reward:  # Paper Fig. 8: reward from a separate conv + fully connected path.
      self._reward_conv = layers.Conv2D(reward_channels, 3, name="reward_conv")
      self._reward_hidden = layers.Linear(reward_hidden, name="reward_hidden")
      self._reward_out = layers.Linear(len(self._config.reward_bins), name="reward_logits")

  @property
  def config(self) -> SokobanModelConfig:
    return self._config

  @property
  def frame_head(self) -> frame_heads.FrameHead:
    return self._frame_head

  @property
  def reward_bins(self) -> np.ndarray:
    """float32 [bins], the reward value of each bin."""
    return np.asarray(self._config.reward_bins, np.float32)

  def logits(self, frame_stack: tf.Tensor, action: tf.Tensor) -> types.EnvModelLogits:
    """Training logits.

    Args:
      frame_stack: float32 [B, H, W, 3 * S] in [0, 1]; only the last 3 channels are used. H and W must
        be static multiples of `pixels_per_cell`. A bfloat16 or float16 stack makes the hidden layers
        compute in that dtype (variables and logits stay float32; see `i2a.layers`).
      action: int32 [B].

    Returns:
      EnvModelLogits(frame_logits float32 [B, H, W, P or 3], reward_logits float32 [B, bins] or None).
    """
    ppc = self._config.pixels_per_cell
    frame_stack = layers.floating_input(frame_stack)
    height, width = frame_stack.shape[1:3]
    if height is None or width is None or height % ppc or width % ppc:
      raise ValueError(f"SokobanEnvModel needs static frame height and width that are multiples of "
                       f"pixels_per_cell={ppc}, got frame_stack shape {frame_stack.shape}")
    inputs = action_tiling.action_conditioned_input(frame_stack, action, self._config.num_actions)
    hidden = tf.nn.leaky_relu(self._encoder(inputs), _LEAKY_SLOPE)  # [B, H/ppc, W/ppc, C]
    for conv in self._trunk:
      hidden += tf.nn.leaky_relu(conv(hidden), _LEAKY_SLOPE)  # Size-preserving residual layer.
    # The decoder and the reward logits run in float32 whatever the compute dtype: the frame's argmax and
    # the reward distribution must not be decided by bfloat16 rounding of the logits (i2a/layers.py).
    frame_logits = self._decoder(tf.cast(hidden, tf.float32))  # [B, H, W, P or 3]
    reward_logits = None
    if self._config.predict_reward:
      reward = tf.nn.leaky_relu(self._reward_conv(hidden), _LEAKY_SLOPE)
      reward = tf.nn.leaky_relu(self._reward_hidden(snt.flatten(reward)), _LEAKY_SLOPE)
      reward_logits = self._reward_out(tf.cast(reward, tf.float32))
    return types.EnvModelLogits(frame_logits=frame_logits, reward_logits=reward_logits)

  def __call__(self, frame_stack: tf.Tensor, action: tf.Tensor) -> types.EnvModelOutput:
    """Rollout output (the talk's env-model signature).

    Args:
      frame_stack: float32 [B, H, W, 3 * S] in [0, 1].
      action: int32 [B].

    Returns:
      EnvModelOutput(frame float32 [B, H, W, 3] in [0, 1], reward float32 [B],
      reward_bins float32 [B, bins] probabilities, all zeros for the frames-only variant).
    """
    logits = self.logits(frame_stack, action)
    frame = self._frame_head.frame(logits.frame_logits)
    if logits.reward_logits is None:
      batch = tf.shape(frame)[0]
      return types.EnvModelOutput(frame=frame, reward=tf.zeros([batch], tf.float32),
                                  reward_bins=tf.zeros([batch, len(self._config.reward_bins)], tf.float32))
    probs = tf.nn.softmax(logits.reward_logits, axis=-1)
    reward = tf.reduce_sum(probs * tf.constant(self.reward_bins), axis=-1)  # Expected reward.
    return types.EnvModelOutput(frame=frame, reward=reward, reward_bins=probs)

  def predicted_terminal(self, output: types.EnvModelOutput) -> tf.Tensor:
    """bool [B]: the most probable reward bin is the solving push's (10.9), the step that ends the
    episode (paper App. D). Never for the frames-only model or bins without a solving reward."""
    bins = self.reward_bins
    solving = np.flatnonzero(np.abs(bins - games.SOKOBAN_SOLVING_REWARD) < 1e-6)
    if not self._config.predict_reward or not solving.size:
      return tf.zeros(tf.shape(output.reward), tf.bool)
    return tf.equal(tf.argmax(output.reward_bins, axis=-1, output_type=tf.int32), int(solving[0]))
