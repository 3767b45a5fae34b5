"""Counting parameters and floating-point operations, for `launch.describe` and the benchmarks."""
from typing import Callable, Sequence

import numpy as np
import tensorflow as tf


def num_parameters(variables: Sequence[tf.Variable]) -> int:
  """Total number of scalars in `variables`."""
  return int(sum(np.prod(v.shape) for v in variables))


def count_flops(fn: Callable, *input_specs: tf.TensorSpec) -> int:
  """Floating-point operations of one call of `fn` on inputs of fully defined `input_specs`.

  Uses TensorFlow's graph profiler on the traced function (a multiply-add counts as 2 FLOPs). Ops the
  profiler has no statistics for (e.g. elementwise activations) are not counted, so this is a slight
  under-estimate dominated, as it should be, by convolutions and matrix products.
  """
  concrete = tf.function(fn).get_concrete_function(*input_specs)
  options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
  options["output"] = "none"
  profile = tf.compat.v1.profiler.profile(graph=concrete.graph, options=options)
  return int(profile.total_float_ops)
