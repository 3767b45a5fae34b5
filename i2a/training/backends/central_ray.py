"""Central inference over Ray: environment workers are Ray actors (on any node), the inference server
runs in the learner's process on the learner's device (SEED RL's layout; i2a/training/central/).

The transport is Ray's own: each worker's `step(actions)` is an actor method call whose result (the
next timestep) is an object ref; the server thread waits on the refs of all workers with `ray.wait`,
which gives the batching deadline directly, and answers each served request with the worker's next
`step` call. Each worker has exactly one call in flight, so memory is bounded by K timesteps plus the
bounded unroll queue. A worker whose process dies (or whose environment raises) is killed and replaced
by a new Ray actor of a new generation, whose first step is a reset; the server drops the old
generation's partial unroll. A server failure stops the run with `InferenceServerError`.
"""
import os
import threading
import time
from typing import Callable, Optional, Sequence

from absl import logging
import numpy as np

from envs import batched
from i2a.training import actor as actor_lib
from i2a.training import backends
from i2a.training.backends import central_local
from i2a.training.backends import ray_backend
from i2a.training.central import server as server_lib

ray = ray_backend.ray


class WorkerDeathsError(RuntimeError):
  """An environment worker died too often in a row: a bug, not bad luck."""


class _RemoteEnvWorker:
  """Lives in a Ray worker process: N environment copies and nothing else (no TensorFlow model)."""

  def __init__(self, make_env: Callable[[int], batched.BatchedEnvironment], worker_id: int):
    self._env = make_env(worker_id)

  def reset(self) -> batched.BatchedTimeStep:
    return self._env.reset()

  def step(self, actions: np.ndarray) -> batched.BatchedTimeStep:
    return self._env.step(actions)

  def pid(self) -> int:
    return os.getpid()


class CentralRayBackend(backends.Backend):
  """K Ray environment workers and the inference server in a thread of this process.

  If it initialised Ray, `stop` shuts Ray down (also when the constructor fails).

  Args:
    make_server: emit -> the InferenceServer (built here, in the learner's process).
    make_env: a picklable worker id -> BatchedEnvironment, run inside each Ray worker.
    num_workers: K.
    queue_size: unrolls buffered between the server and the learner.
    address: a Ray cluster to join; None starts a local one.
    cpus_per_worker: CPUs Ray reserves for each environment worker.
    connect_timeout: seconds to wait for `address` before giving up with an error.
  """

  takes_variables = True  # The server is in the learner's process: it copies on its device.

  def __init__(self, make_server, make_env: Callable[[int], batched.BatchedEnvironment], num_workers: int,
               queue_size: int, address: Optional[str] = None, cpus_per_worker: float = 1,
               connect_timeout: float = 60.0):
    super().__init__(queue_size)
    if num_workers < 1:
      raise ValueError(f"CentralRayBackend: num_workers must be >= 1, got {num_workers}.")
    self.workers, self._thread, self._stop = [], None, threading.Event()
    self._owns_ray = ray_backend.init_ray(address, num_cpus=None if address else max(os.cpu_count() or 1, num_workers),
                                          connect_timeout=connect_timeout)
    try:
      self.server = make_server(self.unroll_queue.put)
      self._remote_cls = ray.remote(max_restarts=0)(_RemoteEnvWorker).options(num_cpus=cpus_per_worker)
      self._make_env = make_env
      self.workers = [self._remote_cls.remote(make_env, k) for k in range(num_workers)]
    except BaseException:
      self.stop()
      raise
    self._generations = [0] * num_workers
    self._deaths = [0] * num_workers
    self._pending: dict = {}  # object ref -> (worker id, generation)

  def publish(self, weights: Sequence[np.ndarray], step: int) -> None:
    self.server.publish(weights, step)

  def scalars(self) -> dict:
    return self.server.scalars()

  def _replace(self, worker_id: int, error: BaseException) -> None:
    self._deaths[worker_id] += 1
    self.actor_restarts += 1
    logging.warning("Environment worker %d died (%s); starting a new one.", worker_id, type(error).__name__)
    if self._deaths[worker_id] >= central_local.MAX_CONSECUTIVE_DEATHS:
      raise WorkerDeathsError(f"Environment worker {worker_id} died {self._deaths[worker_id]} times in a row "
                         f"(last: {error!r}).")
    ray.kill(self.workers[worker_id], no_restart=True)
    self._generations[worker_id] += 1
    self.workers[worker_id] = self._remote_cls.remote(self._make_env, worker_id)
    self._pending[self.workers[worker_id].reset.remote()] = (worker_id, self._generations[worker_id])

  def _poll(self, timeout: Optional[float]) -> Optional[server_lib.Request]:
    """The next worker step that is ready within `timeout` seconds, or None."""
    deadline = time.monotonic() + (timeout or 0.0)
    while True:
      ready, _ = ray.wait(list(self._pending), num_returns=1, timeout=max(deadline - time.monotonic(), 0.0))
      if not ready:
        return None
      worker_id, generation = self._pending.pop(ready[0])
      try:
        timestep = ray.get(ready[0])
      except (ray.exceptions.RayActorError, ray.exceptions.RayTaskError) as e:
        self._replace(worker_id, e)
        continue
      self._deaths[worker_id] = 0
      return server_lib.Request(worker_id, generation, timestep, time.monotonic())

  def _serve(self) -> None:
    try:
      self._pending = {w.reset.remote(): (k, 0) for k, w in enumerate(self.workers)}
      stopped = lambda: self._stop.is_set() or self.unroll_queue.closed
      while not stopped():
        requests = self.server.gather(self._poll, stopped)
        if not requests:
          break
        for request, actions in zip(requests, self.server.serve(requests)):
          worker_id = request.worker_id
          self._pending[self.workers[worker_id].step.remote(actions)] = (worker_id, request.generation)
    except WorkerDeathsError as e:
      self.unroll_queue.fail(e)
    except Exception as e:  # pylint: disable=broad-except  # Reported to the learner through the queue.
      logging.exception("The inference server failed.")
      self.unroll_queue.fail(central_local.InferenceServerError(
          f"The central inference server failed ({e!r}); the run stops and resumes from its last checkpoint."))

  def start(self) -> None:
    if self._thread is not None:
      raise RuntimeError("CentralRayBackend: already started.")
    self._thread = threading.Thread(target=self._serve, name="inference_server", daemon=True)
    self._thread.start()

  def stop(self) -> None:
    self._stop.set()
    self.unroll_queue.close()
    if self._thread is not None:
      self._thread.join(timeout=30)
    try:
      for handle in self.workers:
        ray.kill(handle, no_restart=True)
    finally:
      self.workers = []
      if self._owns_ray and ray.is_initialized():
        ray.shutdown()
