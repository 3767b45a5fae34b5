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


def policy_step_flops(agent) -> dict[str, int]:
  """Forward FLOPs of one policy step for ONE environment frame (batch 1), by part.

  Returns:
    {'total': the whole step, and for an agent that imagines: 'env_model' (one call x A rollouts x D
    steps), 'rollout_policy' (one call x A x (D - 1): step 1 takes each action in turn, paper Sec. 3.1),
    'encoder' (the per-step CNN and LSTM over the A x D imagined steps), 'rest' (model-free path, FC and
    heads: total minus the others)}. Builds the agent's variables if they do not exist yet.
  """
  height, width, dtype = agent.height, agent.width, agent.compute_dtype
  frame = tf.TensorSpec([1, height, width, 3], tf.float32)
  state = tf.TensorSpec(agent.initial_state(1).shape, tf.float32)
  agent(tf.zeros(frame.shape), tf.zeros(state.shape))  # Creates the variables outside the traced graph.
  flops = {"total": count_flops(lambda f, s: agent.step(f, s)[:2], frame, state)}
  path = agent.imag_path
  if not hasattr(path, "imagine"):
    return flops
  rollouts, depth = agent.num_actions, path.rollout_depth
  stack = tf.TensorSpec(state.shape, dtype)
  flops["env_model"] = rollouts * depth * count_flops(
      lambda s, a: path.env_model(s, a), stack, tf.TensorSpec([1], tf.int32))
  policy = getattr(path, "rollout_policy", None)
  flops["rollout_policy"] = 0 if depth == 1 else rollouts * (depth - 1) * count_flops(
      lambda f: policy(f)[1], tf.TensorSpec([1, height, width, 3], dtype))
  steps = [1, rollouts, depth]
  imagined = (tf.TensorSpec(steps + [height, width, 3], tf.float32), tf.TensorSpec(steps, tf.float32),
              tf.TensorSpec(steps, tf.int32))
  from i2a import imagination  # pylint: disable=g-import-not-at-top
  flops["encoder"] = count_flops(lambda *x: path.encode(imagination.Imagination(*x), dtype), *imagined)
  flops["rest"] = flops["total"] - flops["env_model"] - flops["rollout_policy"] - flops["encoder"]
  return flops
