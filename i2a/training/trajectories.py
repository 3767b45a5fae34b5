"""What the learner accepts from the actors: a `types.Trajectory` of the documented dtypes and shapes.

Actors (and central inference) send NumPy arrays; `checked_trajectory` converts them to tensors and
names any field of the wrong shape or dtype before the compiled training step sees it.
"""
import sonnet as snt
import tensorflow as tf

from i2a import frame_stack
from i2a import imagined as imagination_lib
from i2a import types


_DTYPES = dict(step_type=tf.int32, observation=tf.uint8, reward=tf.float32, discount=tf.float32,
               action=tf.int32, behaviour_logits=tf.float32, initial_state=tf.float32)


def checked_trajectory(trajectory: types.Trajectory, agent: snt.RNNCore) -> types.Trajectory:
  """`trajectory` as tensors of the documented dtypes; ValueError naming any field of the wrong shape."""
  fields = {name: tf.convert_to_tensor(getattr(trajectory, name)) for name in _DTYPES}
  obs, obs_dtype = tuple(fields["observation"].shape), fields["observation"].dtype
  frame = (agent.height, agent.width, frame_stack.FRAME_CHANNELS)
  if obs_dtype != tf.uint8 or len(obs) != 5 or obs[2:] != frame or obs[0] < 2:
    raise ValueError(f"Trajectory.observation must be uint8 [T+1, B, {', '.join(map(str, frame))}] with "
                     f"T >= 1, got {obs_dtype.name} {obs}.")
  expected = dict(step_type=obs[:2], reward=obs[:2], discount=obs[:2], action=obs[:2],
                  behaviour_logits=obs[:2] + (agent.num_actions,),
                  initial_state=(obs[1],) + frame[:2] + (frame[2] * agent.stack_size,))
  for name, shape in expected.items():
    if tuple(fields[name].shape) != shape:
      raise ValueError(f"Trajectory.{name} has shape {tuple(fields[name].shape)}, expected {shape} "
                       f"(T+1={obs[0]}, B={obs[1]}).")
  imagination = trajectory.imagination
  if imagination is not None:
    imagination = imagination_lib.CompactImagination(
        *(None if x is None else tf.convert_to_tensor(x) for x in imagination))
    rollouts = obs[:2] + (agent.num_actions, agent.rollout_depth or 0)
    expected = imagination_lib.CompactImagination(
        frame_index=(tf.uint8, rollouts + frame[:2]), reward=(tf.float32, rollouts),
        action=(tf.uint8, rollouts), terminal=(tf.uint8, rollouts) if agent.records_terminal else None)
    for name, spec in zip(expected._fields, expected):
      value = getattr(imagination, name)
      if spec is None and value is None:
        continue
      if spec is None or value is None:
        raise ValueError(f"Trajectory.imagination.{name} must be {'None' if spec is None else 'given'} "
                         f"for this agent, got {'None' if value is None else 'an array'}.")
      dtype, shape = spec
      if value.dtype != dtype or tuple(value.shape) != shape:
        raise ValueError(f"Trajectory.imagination.{name} must be {dtype.name} {shape}, got "
                         f"{value.dtype.name} {tuple(value.shape)}.")
  return types.Trajectory(**{name: tf.cast(value, _DTYPES[name]) for name, value in fields.items()},
                          imagination=imagination)
