"""Rollout policies used inside the imagination path (talk, "RolloutPolicy" slide; paper Sec. 3.1).

Both return `(action [B] int32, logits [B, A] float32)`, so they are interchangeable by flag.
"""
from typing import Optional

import sonnet as snt
import tensorflow as tf

from i2a import frame_processing
from i2a import layers
from i2a import sampling


class RolloutPolicy(snt.Module):
  """The small model-free policy pi-hat that picks the imagined actions after the first.

  It is trained only by distillation from the I2A policy (see `i2a.distillation.distillation_loss`): inside
  the imagination path its actions are sampled, so no other loss reaches its variables.
  """

  def __init__(self, num_actions: int, hidden_size: int,
               torso: frame_processing.TorsoConfig = frame_processing.TALK_TORSO,
               seed: Optional[int] = None, name: str = "rollout_policy", temperature: float = 1.0):
    """Creates the sub-modules; variables are created on the first call.

    Args:
      num_actions: A, the size of the action set.
      hidden_size: width of its FrameProcessing's Linear layer (the talk's 128).
      torso: its convolutions (the talk's by default).
      seed: seeds action sampling; None for non-deterministic.
      name: module name.
      temperature: T > 0: actions are sampled from softmax(logits / T); 1 (the talk's and paper's)
        samples the policy itself. The returned logits are untempered (the distillation target).
    """
    super().__init__(name=name)
    if num_actions < 1 or hidden_size < 1:
      raise ValueError(f"RolloutPolicy: num_actions and hidden_size must be positive, got {num_actions}, "
                       f"{hidden_size}.")
    if not temperature > 0:
      raise ValueError(f"RolloutPolicy: temperature must be > 0, got {temperature}.")
    self.num_actions = num_actions
    self.hidden_size = hidden_size
    self.temperature = temperature
    self._frame_processing = frame_processing.FrameProcessing(hidden_size, torso)
    self._logits = layers.Linear(num_actions, name="logits")
    self._sampler = sampling.Sampler(seed)

  def __call__(self, frame: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """float [B, H, W, 3] -> (action int32 [B], logits float32 [B, A]).

    The torso computes in the frame's dtype; the logits layer in float32 (they are sampled and distilled).
    The action is sampled from logits / temperature; the logits returned are not divided.
    """
    logits = self._logits(tf.cast(self._frame_processing(frame), tf.float32))
    tempered = logits if self.temperature == 1.0 else logits / self.temperature
    return self._sampler(tempered), logits


class RandomPolicy(snt.Module):
  """Uniformly random actions; needs no training (the talk's closing list of swappable parts)."""

  def __init__(self, num_actions: int, seed: Optional[int] = None, name: str = "random_policy"):
    """Creates the sub-modules; variables are created on the first call.

    Args:
      num_actions: A; actions are uniform over 0..A-1.
      seed: seeds action sampling; None for non-deterministic.
      name: module name.
    """
    super().__init__(name=name)
    if num_actions < 1:
      raise ValueError(f"RandomPolicy: num_actions must be positive, got {num_actions}.")
    self.num_actions = num_actions
    self._sampler = sampling.Sampler(seed)

  def __call__(self, frame: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """float32 [B, H, W, C] -> (action int32 [B] uniform, logits float32 [B, A] all zero)."""
    logits = tf.zeros(tf.stack([tf.shape(frame)[0], self.num_actions]), dtype=tf.float32)
    return self._sampler(logits), logits
