"""RMSProp as TF1's `tf.train.RMSPropOptimizer` computes it: the optimizer of the talk and of IMPALA.

The talk's distillation slide minimises with `tf.train.RMSPropOptimizer(learning_rate, epsilon=0.1)`,
and IMPALA's reference learner uses the same TF1 optimizer (decay 0.99, momentum 0, epsilon 0.1). Its
update, for each variable and gradient g, is

    ms  <- decay * ms + (1 - decay) * g^2          ms starts at 1
    mom <- momentum * mom + learning_rate * g / sqrt(ms + epsilon)
    var <- var - mom

Sonnet 2's `snt.optimizers.RMSProp` computes the same formula but starts `ms` at 0. With epsilon 0.1
and decay 0.99 the first step of a gradient of 1 is then lr / sqrt(0.11) ~ 3.0 lr instead of TF1's
lr / sqrt(1.1) ~ 0.95 lr, and the difference fades only as decay^t. `RMSPropTF1` keeps TF1's start.
"""
from typing import Optional, Sequence, Union

import sonnet as snt
import tensorflow as tf

# The optimizers a learner can use: TF1's semantics (the talk's and IMPALA's) or Sonnet 2's.
OPTIMIZERS = ("rmsprop_tf1", "rmsprop_snt")
FloatLike = Union[float, tf.Tensor, tf.Variable]


class RMSPropTF1(snt.Optimizer):
  """Non-centered RMSProp with TF1's semantics: the mean-square accumulator starts at 1.

  Dense updates only (an `IndexedSlices` gradient is made dense first, so every row's `ms` decays, as in
  TF1's dense kernel). Works eagerly, inside `tf.function` and under XLA (`jit_compile=True`).

  Attributes:
    learning_rate, decay, momentum, epsilon: the hyper-parameters (floats, tensors or variables).
    ms: one non-trainable variable per parameter, the mean square (TF1's 'rms' slot), initialised to 1.
    mom: one non-trainable variable per parameter, the momentum (TF1's 'momentum' slot), initialised to 0.
  """

  def __init__(self, learning_rate: FloatLike, decay: FloatLike = 0.9, momentum: FloatLike = 0.0,
               epsilon: FloatLike = 1e-10, name: Optional[str] = None):
    """Constructs the optimizer; the defaults are TF1's (`tf.compat.v1.train.RMSPropOptimizer`).

    Args:
      learning_rate: the step size.
      decay: the discount of the mean square, in [0, 1].
      momentum: the momentum coefficient, >= 0.
      epsilon: added to the mean square under the square root, > 0 in practice (TF1 default 1e-10).
      name: the module name.
    """
    super().__init__(name=name)
    self.learning_rate = learning_rate
    self.decay = decay
    self.momentum = momentum
    self.epsilon = epsilon
    self.ms: list[tf.Variable] = []
    self.mom: list[tf.Variable] = []

  @snt.once
  def initialize(self, parameters: Sequence[tf.Variable]) -> None:
    """Creates the slots of `parameters` (once; later calls do nothing), without updating anything.

    Call it before tracing a compiled step so that the slots exist outside the trace; `apply` calls it
    too. Unlike a zero-gradient `apply`, it leaves `ms` at exactly 1.
    """
    for parameter in parameters:
      name = parameter.name.split(":")[0]
      with tf.device(parameter.device):
        self.ms.append(tf.Variable(tf.ones(parameter.shape, parameter.dtype), trainable=False,
                                   name=f"{name}/rms"))
        self.mom.append(tf.Variable(tf.zeros(parameter.shape, parameter.dtype), trainable=False,
                                    name=f"{name}/momentum"))

  def apply(self, updates: Sequence[Optional[tf.Tensor]], parameters: Sequence[tf.Variable]) -> None:
    """Applies one RMSProp step of `updates` (e.g. gradients; None skips that parameter) to `parameters`.

    Raises:
      ValueError: empty or unequal lists, a dtype mismatch, or other parameters than the first call's.
    """
    updates, parameters = list(updates), list(parameters)
    if not parameters or len(updates) != len(parameters):
      raise ValueError(f"RMSPropTF1.apply: need as many updates as parameters (at least one), got "
                       f"{len(updates)} updates for {len(parameters)} parameters.")
    self.initialize(parameters)
    if len(self.ms) != len(parameters) or any(
        tuple(m.shape) != tuple(p.shape) for m, p in zip(self.ms, parameters)):
      raise ValueError("RMSPropTF1.apply: parameters differ from those of the first call; use one "
                       "optimizer per list of parameters.")
    for update, parameter, ms, mom in zip(updates, parameters, self.ms, self.mom):
      if update is None:
        continue
      update = tf.convert_to_tensor(update)  # Densifies IndexedSlices.
      if update.dtype != parameter.dtype:
        raise ValueError(f"RMSPropTF1.apply: update dtype {update.dtype.name} differs from parameter "
                         f"{parameter.name}'s {parameter.dtype.name}.")
      lr, decay, momentum, epsilon = (tf.cast(x, parameter.dtype) for x in (
          self.learning_rate, self.decay, self.momentum, self.epsilon))
      # TF1's CPU kernel (ApplyRMSProp) in its own arithmetic order, so eager float32 results match it
      # bit for bit: ms += (g^2 - ms) * (1 - decay); mom = mom * momentum + g * lr / sqrt(ms + epsilon).
      new_ms = ms + (tf.square(update) - ms) * (1.0 - decay)
      new_mom = mom * momentum + update * lr / tf.sqrt(new_ms + epsilon)  # epsilon inside the root.
      ms.assign(new_ms)
      mom.assign(new_mom)
      parameter.assign_sub(new_mom)


def build_rmsprop(kind: str, learning_rate: FloatLike, decay: FloatLike = 0.9, momentum: FloatLike = 0.0,
                  epsilon: FloatLike = 1e-10) -> snt.Optimizer:
  """'rmsprop_tf1' -> `RMSPropTF1`, 'rmsprop_snt' -> `snt.optimizers.RMSProp`, same hyper-parameters."""
  if kind == "rmsprop_tf1":
    return RMSPropTF1(learning_rate, decay, momentum, epsilon)
  if kind == "rmsprop_snt":
    return snt.optimizers.RMSProp(learning_rate, decay, momentum, epsilon)
  raise ValueError(f"Unknown optimizer {kind!r}; expected one of {OPTIMIZERS}.")


def create_slots(optimizer: snt.Optimizer, parameters: Sequence[tf.Variable]) -> None:
  """Creates `optimizer`'s slot variables for `parameters` without changing any value.

  Slots must exist before a step is traced by `tf.function`. Sonnet's RMSProp has no public way to make
  them, so it gets a zero update, which leaves its zero slots and the parameters unchanged; the same
  zero update would decay `RMSPropTF1`'s mean squares below 1, so that one uses `initialize`.
  """
  if isinstance(optimizer, RMSPropTF1):
    optimizer.initialize(parameters)
  else:
    optimizer.apply([tf.zeros_like(p) for p in parameters], parameters)
