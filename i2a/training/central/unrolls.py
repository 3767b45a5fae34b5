"""The server's record of one environment worker's steps, cut into the unrolls the learner reads.

Per-actor inference cuts its own experience (`Actor.unroll`); with central inference the server holds,
per worker, the same thing: the steps since the last unroll, the frame stack before its first step,
and the running episode returns. Unrolls hold T+1 steps and overlap by one, exactly as `Actor.unroll`'s.
"""
from typing import Optional

import dm_env
import numpy as np

from envs import batched
from i2a import imagined as imagination_lib
from i2a import types
from i2a.training import actor as actor_lib


class UnrollBuilder:
  """Collects one worker's steps (N environment copies) into `ActorOutput`s of T+1 steps.

  Args:
    worker_id: tags the unrolls (`ActorOutput.actor_id`).
    num_envs: N, the worker's environment copies.
    unroll_length: T.
  """

  def __init__(self, worker_id: int, num_envs: int, unroll_length: int):
    self.worker_id, self._num_envs, self._unroll_length = worker_id, num_envs, unroll_length
    self.reset()

  def reset(self) -> None:
    """Drops the partial unroll and the running episodes (a new worker starts from FIRST steps)."""
    self._steps: list = []  # (timestep, AgentOutput, compact imagination or None, weights step)
    self._initial_state: Optional[np.ndarray] = None
    self._running_return = np.zeros(self._num_envs, np.float64)
    self._running_length = np.zeros(self._num_envs, np.int64)
    self._finished: list = []

  @property
  def num_steps(self) -> int:
    """Steps held, the overlapping first one included."""
    return len(self._steps)

  def _track(self, timestep: batched.BatchedTimeStep) -> None:
    """Episode bookkeeping of one new environment step, as `Actor._track`."""
    first = timestep.step_type == dm_env.StepType.FIRST
    self._running_return = np.where(first, 0.0, self._running_return + timestep.reward)
    self._running_length = np.where(first, 0, self._running_length + 1)
    for i in np.flatnonzero(timestep.step_type == dm_env.StepType.LAST):
      self._finished.append((self._running_return[i], self._running_length[i], timestep.discount[i] == 0))

  def add(self, timestep: batched.BatchedTimeStep, output: types.AgentOutput, state_before: np.ndarray,
          imagined: Optional[imagination_lib.CompactImagination], weights_step: int
          ) -> Optional[actor_lib.ActorOutput]:
    """Records one step and returns the unroll it completes, if any.

    Args:
      timestep: the worker's step ([N] arrays, observation 'rgb' uint8 [N, H, W, 3]).
      output: what the server's policy did on it: int32 [N] actions, float32 [N, A] logits, [N] baselines.
      state_before: float32 [N, H, W, C], the frame stack given to that policy call (before the reset
        at FIRST steps): the unroll's `initial_state` when this step is its step 0.
      imagined: the compact imagination of this step ([N, ...]) or None.
      weights_step: learner step of the weights that acted.

    Returns:
      The ActorOutput of T+1 steps this step completes ([T+1, N, ...]), or None.
    """
    self._track(timestep)
    if not self._steps:
      self._initial_state = state_before
    self._steps.append((timestep, output, imagined, weights_step))
    if len(self._steps) < self._unroll_length + 1:
      return None
    steps = self._steps
    trajectory = types.Trajectory(
        step_type=np.stack([ts.step_type for ts, *_ in steps]).astype(np.int32),
        observation=np.stack([ts.observation["rgb"] for ts, *_ in steps]),
        reward=np.stack([ts.reward for ts, *_ in steps]).astype(np.float32),
        discount=np.stack([ts.discount for ts, *_ in steps]).astype(np.float32),
        action=np.stack([out.action for _, out, *_ in steps]).astype(np.int32),
        behaviour_logits=np.stack([out.policy_logits for _, out, *_ in steps]).astype(np.float32),
        initial_state=self._initial_state,
        imagination=imagination_lib.stack_arrays([imagined for _, _, imagined, _ in steps]))
    episodes = actor_lib.EpisodeStats(np.array([f[0] for f in self._finished], np.float64),
                                      np.array([f[1] for f in self._finished], np.int64),
                                      np.array([f[2] for f in self._finished], bool))
    # The weights that acted for steps 1..T (Actor.unroll's convention); the oldest, if they changed.
    weights_step = min(step for *_, step in steps[1:])
    self._steps, self._finished = [steps[-1]], []
    self._initial_state = state_before  # The last step is the next unroll's step 0.
    return actor_lib.ActorOutput(trajectory, weights_step, episodes, self.worker_id)
