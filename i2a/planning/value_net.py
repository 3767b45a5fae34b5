"""The MCTS value network: a residual CNN on the symbolic Sokoban state (paper App. D.3, recalled).

    planes [B, H, W, 4] (wall, target, box, player)
      -> conv 1x1, 128 maps, ReLU
      -> 3 bottleneck blocks: conv 1x1/32, ReLU, conv 3x3/32, ReLU, conv 1x1/128, + input, ReLU
      -> flatten -> Linear 128, ReLU -> Linear 1                                       -> value [B]

The sizes are the appendix's as recalled (not checked against the PDF), so every width is a config field.
A checkpoint directory holds the weights (`tf.train.Checkpoint(value_net=...)`) and `value_net.json`
(room size and config), so `load` rebuilds the same network and refuses one of another room size.
"""
import dataclasses
import json
import os
from typing import Sequence

import numpy as np
import sonnet as snt
import tensorflow as tf

from envs.sokoban import env as env_lib
from i2a.planning import symbolic

_METADATA = "value_net.json"
_PREFIX = "value_net"


@dataclasses.dataclass(frozen=True)
class ValueNetConfig:
  """Widths of `ValueNet` (App. D.3, recalled).

  Attributes:
    channels: maps of the first 1x1 conv and of each block's output (128).
    bottleneck: maps inside each block (32).
    num_blocks: residual blocks (3).
    hidden_size: the fully connected layer (128).
  """
  channels: int = 128
  bottleneck: int = 32
  num_blocks: int = 3
  hidden_size: int = 128

  def __post_init__(self):
    for name in ("channels", "bottleneck", "hidden_size"):
      if getattr(self, name) < 1:
        raise ValueError(f"ValueNetConfig.{name} must be >= 1, got {getattr(self, name)}")
    if self.num_blocks < 0:
      raise ValueError(f"ValueNetConfig.num_blocks must be >= 0, got {self.num_blocks}")


class ValueNet(snt.Module):
  """`net(planes float32 [B, H, W, 4]) -> value float32 [B]`, the return expected from a position."""

  def __init__(self, config: ValueNetConfig = ValueNetConfig(), name: str = "value_net"):
    """Builds the layers (variables are created on the first call).

    Args:
      config: the widths.
      name: the module name.
    """
    super().__init__(name=name)
    self.config = config
    self._stem = snt.Conv2D(config.channels, 1, name="stem")
    self._blocks = [(snt.Conv2D(config.bottleneck, 1, name=f"block_{i}_reduce"),
                     snt.Conv2D(config.bottleneck, 3, name=f"block_{i}_conv"),
                     snt.Conv2D(config.channels, 1, name=f"block_{i}_expand"))
                    for i in range(config.num_blocks)]
    self._flatten_layer = snt.Flatten()
    self._hidden = snt.Linear(config.hidden_size, name="hidden")
    self._value = snt.Linear(1, name="value")

  def __call__(self, planes: tf.Tensor) -> tf.Tensor:
    """float32 [B, H, W, 4] -> float32 [B]."""
    hidden = tf.nn.relu(self._stem(planes))
    for reduce, conv, expand in self._blocks:
      residual = expand(tf.nn.relu(conv(tf.nn.relu(reduce(hidden)))))
      hidden = tf.nn.relu(hidden + residual)
    hidden = tf.nn.relu(self._hidden(self._flatten_layer(hidden)))
    return tf.squeeze(self._value(hidden), axis=-1)


class NetValue:
  """An MCTS value function (`mcts.ValueFn`) from a `ValueNet`: snapshots -> float32 [N] values."""

  def __init__(self, net: ValueNet, height: int, width: int):
    """Args: net: the network; height, width: the room size (outer wall included)."""
    self._net = net
    self._height, self._width = height, width
    self._call = tf.function(net, input_signature=[
        tf.TensorSpec([None, height, width, symbolic.NUM_PLANES], tf.float32)])

  def __call__(self, states: Sequence[env_lib.SokobanState]) -> np.ndarray:
    planes = symbolic.state_planes(states, self._height, self._width)
    return self._call(tf.constant(planes)).numpy()


def save(net: ValueNet, directory: str, room_size: int) -> str:
  """Writes the weights and `value_net.json` into `directory`; returns the checkpoint prefix."""
  os.makedirs(directory, exist_ok=True)
  with open(os.path.join(directory, _METADATA), "w") as f:
    json.dump(dict(room_size=room_size, **dataclasses.asdict(net.config)), f, indent=2)
  return tf.train.Checkpoint(value_net=net).write(os.path.join(directory, _PREFIX))


def load(directory: str, room_size: int) -> ValueNet:
  """Rebuilds and restores the network saved by `save` in `directory`.

  Raises:
    ValueError: no value network there, or one trained for another room size.
  """
  meta_path = os.path.join(directory, _METADATA)
  if not os.path.exists(meta_path):
    raise ValueError(f"No value network in {directory!r} ({_METADATA} is missing); train one with "
                     "python -m launch.train_value_net --out=DIR")
  with open(meta_path) as f:
    meta = json.load(f)
  if meta.get("room_size") != room_size:
    raise ValueError(f"The value network in {directory!r} is for {meta.get('room_size')}x"
                     f"{meta.get('room_size')} rooms, not {room_size}x{room_size}")
  config = ValueNetConfig(**{k: v for k, v in meta.items() if k != "room_size"})
  net = ValueNet(config)
  net(tf.zeros([1, room_size, room_size, symbolic.NUM_PLANES]))  # Create the variables.
  tf.train.Checkpoint(value_net=net).read(os.path.join(directory, _PREFIX)).assert_consumed()
  return net
