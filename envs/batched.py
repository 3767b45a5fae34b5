"""The batched environment interface that actors step: N copies of one game, stepped together, with
automatic reset, returning stacked NumPy arrays.

Reset follows dm_env's convention per copy: the step after a LAST step ignores that copy's action and
returns the FIRST step of a new episode (reward 0, discount 1).
"""
import abc
from typing import Mapping, NamedTuple, Sequence

import numpy as np


class BatchedTimeStep(NamedTuple):
  """One step of N environment copies.

  Attributes:
    step_type: int32 [N], dm_env.StepType values (0 FIRST, 1 MID, 2 LAST).
    reward: float32 [N].
    discount: float32 [N]; 0 at a terminal step, 1 otherwise (1 at a time-limit end).
    observation: dict of arrays [N, ...], the same keys as one environment's observation
      (always 'rgb': uint8 [N, H, W, 3] unless an environment was built without RGB).
  """
  step_type: np.ndarray
  reward: np.ndarray
  discount: np.ndarray
  observation: Mapping[str, np.ndarray]


class BatchedEnvironment(abc.ABC):
  """N copies of one environment stepped together."""

  @property
  @abc.abstractmethod
  def num_envs(self) -> int:
    """N, the number of copies."""

  @property
  @abc.abstractmethod
  def num_actions(self) -> int:
    """The size of the discrete action set."""

  @abc.abstractmethod
  def reset(self) -> BatchedTimeStep:
    """Starts a new episode in every copy; every step type is FIRST."""

  @abc.abstractmethod
  def step(self, actions: np.ndarray) -> BatchedTimeStep:
    """Steps every copy with `actions` (int [N]); copies whose last step was LAST reset instead."""

  def close(self) -> None:
    """Releases resources (nothing by default)."""


class StackedEnvs(BatchedEnvironment):
  """Batched environments side by side as one, e.g. one single-copy Sokoban per Boxoban level so that
  evaluation plays each level exactly once. Observations must share their keys and shapes."""

  def __init__(self, envs: Sequence[BatchedEnvironment]):
    """Args:
      envs: the environments, in the order their copies appear in the stacked arrays.
    """
    if not envs:
      raise ValueError("StackedEnvs needs at least one environment.")
    self._envs = list(envs)

  @property
  def num_envs(self) -> int:
    return sum(env.num_envs for env in self._envs)

  @property
  def num_actions(self) -> int:
    return self._envs[0].num_actions

  @staticmethod
  def _stack(steps: Sequence[BatchedTimeStep]) -> BatchedTimeStep:
    return BatchedTimeStep(
        *(np.concatenate([getattr(s, f) for s in steps]) for f in ("step_type", "reward", "discount")),
        {key: np.concatenate([s.observation[key] for s in steps]) for key in steps[0].observation})

  def reset(self) -> BatchedTimeStep:
    return self._stack([env.reset() for env in self._envs])

  def step(self, actions: np.ndarray) -> BatchedTimeStep:
    steps, start = [], 0
    for env in self._envs:
      steps.append(env.step(actions[start:start + env.num_envs]))
      start += env.num_envs
    return self._stack(steps)

  def close(self) -> None:
    for env in self._envs:
      env.close()


def check_action(action, num_actions: int) -> int:
  """One environment's action as a Python int; ValueError for anything but an integer in range.

  Python and NumPy integers (also 0-d integer arrays) are accepted; floats, strings and booleans are
  refused rather than cast (`int(2.7)` would silently play action 2), as the batched `step`s refuse
  non-integer arrays.
  """
  value = np.asarray(action) if not isinstance(action, (int, np.integer)) else action
  if isinstance(value, np.ndarray):
    if value.ndim != 0 or not np.issubdtype(value.dtype, np.integer):
      raise ValueError(f"action must be in [0, {num_actions}) and one integer, got {action!r} "
                       f"({type(action).__name__}).")
    value = value.item()
  if isinstance(value, (bool, np.bool_)) or not 0 <= int(value) < num_actions:
    raise ValueError(f"action must be in [0, {num_actions}) and one integer, got {action!r}.")
  return int(value)
