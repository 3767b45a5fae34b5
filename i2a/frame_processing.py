"""FrameProcessing: the convolutional torso shared by the model-free path, the rollout policy and the
per-step imagination feature (talk, "FrameProcessing" slide; paper Appendix B.1 for the full sizes)."""
import dataclasses
import numbers
from typing import Optional, Sequence

import sonnet as snt
import tensorflow as tf

from i2a import layers


@dataclasses.dataclass(frozen=True)
class TorsoConfig:
  """A stack of ReLU convolutions.

  Attributes:
    channels: output channels of each convolution.
    kernel_shapes: square kernel size of each convolution.
    strides: stride of each convolution.
    padding: 'SAME' (Sonnet's default, so the talk's) or 'VALID'.
  """
  channels: Sequence[int] = (16, 16)
  kernel_shapes: Sequence[int] = (3, 3)
  strides: Sequence[int] = (1, 2)
  padding: str = "SAME"

  def __post_init__(self):
    if not len(self.channels) == len(self.kernel_shapes) == len(self.strides) or not self.channels:
      raise ValueError(f"TorsoConfig: channels, kernel_shapes and strides must be non-empty and of equal "
                       f"length, got {self.channels}, {self.kernel_shapes}, {self.strides}.")
    if self.padding not in ("SAME", "VALID"):
      raise ValueError(f"TorsoConfig: padding must be 'SAME' or 'VALID', got {self.padding!r}.")
    for name in ("channels", "kernel_shapes", "strides"):
      values = getattr(self, name)
      bad = [v for v in values if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1]
      if bad:
        raise ValueError(f"TorsoConfig: every entry of {name} must be an integer >= 1, got "
                         f"{tuple(getattr(self, name))}.")

  @classmethod
  def parse(cls, text: str) -> "TorsoConfig":
    """'16:3:1,32:3:2' (channels:kernel:stride per layer) -> a SAME-padded TorsoConfig (the --torso
    flag; 'unset' there is the config's per-game default). ValueError naming the text if it is malformed."""
    try:
      layers = [tuple(int(x) for x in layer.split(":")) for layer in text.split(",")]
      channels, kernels, strides = zip(*layers)
    except ValueError as e:
      raise ValueError(f"--torso={text!r}: expected 'channels:kernel:stride,...'.") from e
    return cls(channels, kernels, strides, padding="SAME")

  def widened(self, factor: int) -> "TorsoConfig":
    """The same torso with every channel count multiplied by `factor` (the paper's large baseline)."""
    return dataclasses.replace(self, channels=tuple(c * factor for c in self.channels))


# The talk's torso: conv 16 3x3 stride 1, conv 16 3x3 stride 2, SAME padding.
TALK_TORSO = TorsoConfig()


class FrameProcessing(snt.Module):
  """Convolutions, flatten, then (if `output_size` is set) Linear(output_size) + ReLU.

  With the default torso and an `output_size` this is exactly the talk's module. `output_size=None`
  gives the paper's model-free path inside I2A: "a CNN ... without the FC layers" (paper App. B.1).
  """

  def __init__(self, output_size: Optional[int], torso: TorsoConfig = TALK_TORSO,
               name: str = "frame_processing"):
    """Creates the sub-modules; variables are created on the first call.

    Args:
      output_size: width of the final Linear + ReLU (the talk's), or None for convolutions only.
      torso: the convolutions (the talk's two 3x3 layers by default).
      name: module name.
    """
    super().__init__(name=name)
    self.output_size = output_size
    self._convs = [
        layers.Conv2D(output_channels=c, kernel_shape=k, stride=s, padding=torso.padding, name=f"conv_{i}")
        for i, (c, k, s) in enumerate(zip(torso.channels, torso.kernel_shapes, torso.strides))]
    self._flatten_layer = snt.Flatten()  # Sonnet 1's BatchFlatten.
    self._linear = None if output_size is None else layers.Linear(output_size, name="linear")

  def __call__(self, frame: tf.Tensor) -> tf.Tensor:
    """float [B, H, W, C] -> [B, output_size] (or [B, H' * W' * C'] without the Linear), computed in the
    input's dtype (float32, or bfloat16 / float16; the variables stay float32, see `i2a.layers`)."""
    hidden = frame
    for conv in self._convs:
      hidden = tf.nn.relu(conv(hidden))
    hidden = self._flatten_layer(hidden)
    if self._linear is not None:
      hidden = tf.nn.relu(self._linear(hidden))
    return hidden
