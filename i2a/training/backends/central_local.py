"""Central inference over threads: environment-worker threads and one server thread in the learner's
process, talking through queues (SEED RL's layout on one machine; i2a/training/central/).

Each worker thread steps its N environments, puts a `Request` into the shared request queue and waits
for its actions on its own reply queue. The server thread gathers a batch of requests (size or
deadline), serves it and replies. Memory is bounded: each worker has at most one request in flight,
the server holds at most T+1 steps per worker, and the unroll queue is bounded (the server blocks on
it, and so the workers wait for their actions).

A worker whose environment raises is replaced (a new generation: the server drops its partial unroll);
one that dies `MAX_CONSECUTIVE_DEATHS` times without completing a step stops the run. A server failure
stops the run with `InferenceServerError`; the run resumes from its last checkpoint as after any failure.
"""
import queue
import threading
import time
from typing import Callable, Optional, Sequence

from absl import logging
import numpy as np

from envs import batched
from i2a.training import actor as actor_lib
from i2a.training import backends
from i2a.training.central import server as server_lib

MAX_CONSECUTIVE_DEATHS = 5  # A worker that dies this often without stepping is a bug, not bad luck.


class InferenceServerError(RuntimeError):
  """The central inference server failed; training cannot continue without it."""


class CentralLocalBackend(backends.Backend):
  """K environment-worker threads and one inference-server thread.

  Args:
    make_server: emit -> the InferenceServer (built in the caller's thread, so build errors surface).
    make_env: worker id -> its BatchedEnvironment (called in the worker's thread, again on replacement).
    num_workers: K.
    queue_size: unrolls buffered between the server and the learner.
  """

  takes_variables = True  # The server is in the learner's process: it copies on its device.

  def __init__(self, make_server: Callable[[Callable[[actor_lib.ActorOutput], bool]], server_lib.InferenceServer],
               make_env: Callable[[int], batched.BatchedEnvironment], num_workers: int, queue_size: int):
    super().__init__(queue_size)
    if num_workers < 1:
      raise ValueError(f"CentralLocalBackend: num_workers must be >= 1, got {num_workers}.")
    self.server = make_server(self.unroll_queue.put)
    self._make_env, self._num_workers = make_env, num_workers
    self._requests: queue.Queue = queue.Queue(maxsize=num_workers)  # One in flight per worker.
    self._stop = threading.Event()
    self._threads: list[threading.Thread] = []
    self._restart_lock = threading.Lock()

  def publish(self, weights: Sequence[np.ndarray], step: int) -> None:
    self.server.publish(weights, step)

  def scalars(self) -> dict:
    return self.server.scalars()

  def _stopped(self) -> bool:
    return self._stop.is_set() or self.unroll_queue.closed

  def _poll(self, timeout: Optional[float]) -> Optional[server_lib.Request]:
    try:
      return self._requests.get(timeout=timeout) if timeout else self._requests.get_nowait()
    except queue.Empty:
      return None

  def _serve(self) -> None:
    try:
      while not self._stopped():
        requests = self.server.gather(self._poll, self._stopped)
        if not requests:
          break
        for request, actions in zip(requests, self.server.serve(requests)):
          request.reply_to.put(actions)  # Room for one: the worker waits for exactly this reply.
    except Exception as e:  # pylint: disable=broad-except  # Reported to the learner through the queue.
      logging.exception("The inference server failed.")
      self.unroll_queue.fail(InferenceServerError(f"The central inference server failed ({e!r}); the run "
                                                  "stops and resumes from its last checkpoint."))
      self._stop.set()

  def _wait_reply(self, replies: queue.Queue) -> Optional[np.ndarray]:
    while not self._stopped():
      try:
        return replies.get(timeout=0.1)
      except queue.Empty:
        continue
    return None

  def _put_request(self, request: server_lib.Request) -> bool:
    while not self._stopped():
      try:
        self._requests.put(request, timeout=0.1)
        return True
      except queue.Full:
        continue
    return False

  def _work(self, worker_id: int) -> None:
    """Runs worker `worker_id`, replacing it (a new generation) whenever its environment fails."""
    generation, deaths = 0, 0
    while not self._stopped():
      env, steps = None, 0
      try:
        env = self._make_env(worker_id)
        replies: queue.Queue = queue.Queue(maxsize=1)
        timestep = env.reset()
        while self._put_request(server_lib.Request(worker_id, generation, timestep, time.monotonic(), replies)):
          actions = self._wait_reply(replies)
          if actions is None:
            break
          timestep = env.step(actions)
          steps += 1
        return
      except Exception as e:  # pylint: disable=broad-except  # The worker dies; a new one replaces it.
        deaths = 1 if steps else deaths + 1
        with self._restart_lock:
          self.actor_restarts += 1
        logging.warning("Environment worker %d died (%r); starting a new one.", worker_id, e)
        if deaths >= MAX_CONSECUTIVE_DEATHS:
          self.unroll_queue.fail(RuntimeError(f"Environment worker {worker_id} died {deaths} times in a "
                                              f"row without stepping (last: {e!r})."))
          self._stop.set()
          return
        generation += 1
      finally:
        if env is not None:
          env.close()

  def start(self) -> None:
    if self._threads:
      raise RuntimeError("CentralLocalBackend: already started.")
    self._threads = [threading.Thread(target=self._serve, name="inference_server", daemon=True)]
    self._threads += [threading.Thread(target=self._work, args=(k,), name=f"env_worker_{k}", daemon=True)
                      for k in range(self._num_workers)]
    for thread in self._threads:
      thread.start()

  def stop(self) -> None:
    self._stop.set()
    self.unroll_queue.close()
    for thread in self._threads:
      thread.join(timeout=30)
