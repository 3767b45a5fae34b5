"""Dynamic loss scaling for a learner whose agent computes in float16.

float16 gradients smaller than about 6e-8 underflow to 0, so the loss is multiplied by a scale before
differentiation and the gradients divided by it afterwards. A fixed scale would end the run at the first
overflow; this one adapts: a step whose gradients are not finite is skipped and halves the scale
(floor 1), and `period` finite steps in a row double it.

    scaler = DynamicLossScale(initial=1024.0, period=2000)
    grads = [g / scaler.scale for g in tape.gradient(loss * scaler.scale, variables)]
    scaler.update(tf.math.is_finite(tf.linalg.global_norm(grads)))
"""
import tensorflow as tf


class DynamicLossScale:
  """The loss scale and its count of finite steps, both checkpointable variables.

  Args:
    initial: the starting scale, > 0.
    period: finite steps in a row after which the scale doubles, >= 1.

  Attributes:
    scale: float32 scalar tf.Variable, the current loss scale.
    finite_steps: int64 scalar tf.Variable, finite steps since the last overflow or growth.
  """

  def __init__(self, initial: float, period: int):
    self._period = period
    self.scale = tf.Variable(float(initial), trainable=False, name="loss_scale")
    self.finite_steps = tf.Variable(0, dtype=tf.int64, trainable=False, name="finite_steps")

  def trackables(self) -> dict:
    """What a checkpoint must hold to resume the scaling."""
    return dict(loss_scale=self.scale, finite_steps=self.finite_steps)

  def update(self, grads_finite: tf.Tensor) -> None:
    """Halves the scale after an overflow (bool scalar `grads_finite` False), doubles it after `period`
    finite steps in a row."""
    finite_steps = tf.where(grads_finite, self.finite_steps + 1, tf.zeros([], tf.int64))
    grow = finite_steps >= self._period
    scale = tf.where(grads_finite, tf.where(grow, self.scale * 2.0, self.scale),
                     tf.maximum(self.scale * 0.5, 1.0))
    self.scale.assign(scale)
    self.finite_steps.assign(tf.where(grow, tf.zeros([], tf.int64), finite_steps))
