"""Counting parameters and floating-point operations, for `launch.describe` and the benchmarks."""
from typing import Callable, Sequence

import numpy as np
import tensorflow as tf

from i2a import agent as agent_lib
from i2a import agent_interface
from i2a import imagined as imagined_lib


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


def policy_step_flops(agent: agent_interface.Agent) -> dict[str, int]:
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
  if agent.rollout_depth is None:
    return flops
  rollouts, depth = agent.num_actions, agent.rollout_depth
  stack = tf.TensorSpec(state.shape, dtype)
  flops["env_model"] = rollouts * depth * count_flops(
      lambda s, a: agent.env_model(s, a), stack, tf.TensorSpec([1], tf.int32))
  policy = agent.rollout_policy  # None for a random rollout policy, whose sampling costs no FLOPs here.
  flops["rollout_policy"] = 0 if depth == 1 or policy is None else rollouts * (depth - 1) * count_flops(
      lambda f: policy(f)[1], tf.TensorSpec([1, height, width, 3], dtype))
  flops["encoder"] = 0  # The Monte Carlo agent has none: it sums the rollouts' rewards (Sec. 4.2).
  if isinstance(agent, agent_lib.I2AAgent):  # An I2AAgent that imagines has an ImagPath.
    steps = [1, rollouts, depth]
    imagined = (tf.TensorSpec(steps + [height, width, 3], tf.float32), tf.TensorSpec(steps, tf.float32),
                tf.TensorSpec(steps, tf.int32))
    encode = lambda *x: agent.imag_path.encode(imagined_lib.Imagination(*x), dtype)
    flops["encoder"] = count_flops(encode, *imagined)
  flops["rest"] = flops["total"] - flops["env_model"] - flops["rollout_policy"] - flops["encoder"]
  return flops
