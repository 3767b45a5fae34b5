"""The central server's weights: staged on its device by the learner, swapped in before each batch.

SEED RL's server acts with the learner's newest weights (Espeholt et al., ICLR 2020, Sec. 3). Here the
server's agent has its own variables on the learner's device, and a second set, the staging set, beside
them:

  - `publish` (the learner's thread, between two of its steps) assigns the new weights to the staging
    set. Given the learner's own `tf.Variable`s, that is a copy on the device: on a GPU the weights
    never cross to the host. NumPy arrays (a learner in another process) work the same way.
  - `swap` (the server's thread, before a batch) assigns the staging set to the acting set, a second
    on-device copy, if a newer step was staged.

One lock covers both copies, so a batch never acts with half of one step's weights and half of
another's, and the learner never waits for a policy step, only for a copy. The server's acting lag, the
learner steps published while a batch was being served, is therefore at most the steps the learner
takes during one server step (`lag_behind`; WORKSPACE.md, deviation 44).
"""
import threading
from typing import Optional, Sequence, Union

import numpy as np
import tensorflow as tf

Weights = Sequence[Union[np.ndarray, tf.Variable, tf.Tensor]]


class DeviceWeights:
  """A staging set of variables for `acting` (see the module docstring).

  Args:
    acting: the server agent's policy variables, in `Agent.policy_variables` order.
    device: where the staging set lives: the server's (the learner's) device; None for TF's default.
  """

  def __init__(self, acting: Sequence[tf.Variable], device: Optional[str] = None):
    self._acting = list(acting)
    with tf.device(device):
      self._staged = [tf.Variable(tf.zeros(v.shape, v.dtype), trainable=False, name="staged")
                      for v in self._acting]
    self._device = device
    self._lock = threading.Lock()
    self._staged_step = -1
    self.step = -1  # The learner step of the weights the acting set holds; -1: none yet.

  @property
  def staged_step(self) -> int:
    """The newest published learner step (-1 before the first `publish`)."""
    return self._staged_step

  def publish(self, weights: Weights, step: int) -> None:
    """Stages `weights` of learner step `step`; the next `swap` acts with them.

    Raises:
      ValueError: a different number of weights, or a shape that differs from the acting variable's.
    """
    if len(weights) != len(self._acting):
      raise ValueError(f"DeviceWeights.publish: {len(weights)} weights for {len(self._acting)} variables.")
    for value, variable in zip(weights, self._acting):
      if tuple(value.shape) != tuple(variable.shape):
        raise ValueError(f"DeviceWeights.publish: shape {tuple(value.shape)} for {variable.name} "
                         f"{tuple(variable.shape)}.")
    with self._lock, tf.device(self._device):
      for staged, value in zip(self._staged, weights):
        staged.assign(value)
      self._staged_step = int(step)

  def swap(self) -> int:
    """Makes the newest staged weights the acting ones, if they are newer; returns their step."""
    with self._lock:
      if self._staged_step != self.step:
        with tf.device(self._device):
          for variable, staged in zip(self._acting, self._staged):
            variable.assign(staged)
        self.step = self._staged_step
    return self.step

  def lag_behind(self) -> int:
    """Learner steps published since the acting weights were swapped in (0 when they are the newest)."""
    return max(self._staged_step - self.step, 0)
