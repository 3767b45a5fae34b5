"""Deterministic central inference: the learner's thread steps every worker in lockstep on demand.

With `TrainConfig.deterministic`, each `get` that finds no finished unroll serves all K workers' steps
as one batch and steps their environments, until the K unrolls of that lockstep are done, then hands
them out in worker order. With a learner batch of K * N copies this is the order and the weights of
per-actor deterministic acting (`sync.py`), so the same seed gives the same actions (tested).
"""
import collections
import time
from typing import Callable, Optional, Sequence

import numpy as np

from envs import batched
from i2a.training import actor as actor_lib
from i2a.training import backends
from i2a.training.central import server as server_lib


class _LockstepUnrolls:
  """Stands in for the unroll queue: `get` serves lockstep batches in this thread until one is ready."""

  def __init__(self):
    self.ready: collections.deque = collections.deque()
    self.server: Optional[server_lib.InferenceServer] = None
    self.envs: list[batched.BatchedEnvironment] = []
    self.timesteps: list[batched.BatchedTimeStep] = []
    self.closed = False

  def put(self, output: actor_lib.ActorOutput) -> bool:
    self.ready.append(output)
    return True

  def get(self, timeout: Optional[float] = None) -> actor_lib.ActorOutput:
    del timeout  # The unroll is produced here, not waited for.
    if self.closed or not self.envs:
      raise RuntimeError("CentralSyncBackend: not started, or stopped.")
    while not self.ready:
      requests = [server_lib.Request(k, 0, t, time.monotonic()) for k, t in enumerate(self.timesteps)]
      actions = self.server.serve(requests)
      self.timesteps = [env.step(a) for env, a in zip(self.envs, actions)]
    return self.ready.popleft()

  def close(self) -> None:
    self.closed = True
    for env in self.envs:
      env.close()

  def qsize(self) -> int:
    return len(self.ready)


class CentralSyncBackend(backends.Backend):
  """K workers served in lockstep by the learner's thread (see the module docstring).

  Args:
    make_server: emit -> the InferenceServer.
    make_env: worker id -> its BatchedEnvironment.
    num_workers: K.
  """

  takes_variables = True  # The server is in the learner's process: it copies on its device.

  def __init__(self, make_server: Callable[[Callable[[actor_lib.ActorOutput], bool]], server_lib.InferenceServer],
               make_env: Callable[[int], batched.BatchedEnvironment], num_workers: int):
    super().__init__(queue_size=1)
    if num_workers < 1:
      raise ValueError(f"CentralSyncBackend: num_workers must be >= 1, got {num_workers}.")
    self.unroll_queue = _LockstepUnrolls()
    self.server = make_server(self.unroll_queue.put)
    self.unroll_queue.server = self.server
    self._make_env, self._num_workers = make_env, num_workers

  def publish(self, weights: Sequence[np.ndarray], step: int) -> None:
    self.server.publish(weights, step)

  def scalars(self) -> dict:
    return self.server.scalars()

  def start(self) -> None:
    if self.unroll_queue.envs:
      raise RuntimeError("CentralSyncBackend: already started.")
    self.unroll_queue.envs = [self._make_env(k) for k in range(self._num_workers)]
    self.unroll_queue.timesteps = [env.reset() for env in self.unroll_queue.envs]

  def stop(self) -> None:
    self.unroll_queue.close()
