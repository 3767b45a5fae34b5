"""Actors as Ray actors on a cluster (or a local one), weights shared through Ray's object store.

Each publish puts the weights in the object store once (`ray.put`); every actor call carries the
reference, wrapped in a list so Ray does not fetch it, and an actor fetches it only when the learner
step it names is newer than its own. A driver thread keeps one `unroll` call in flight per actor (the
next call is submitted before the result waits for room in the unroll queue) and moves the results
into the queue. When an actor's process dies, the driver counts it and replaces it with a new Ray
actor of the same id; the learner keeps going on the other actors' unrolls meanwhile. (We do not rely
on Ray's own `max_restarts`: with Ray 2.60, calls submitted while an actor was restarting hung.)
"""
import os
import socket
import threading
import time
from typing import Optional, Sequence

from absl import logging
import numpy as np

import i2a
from i2a.training import actor as actor_lib
from i2a.training import backends

try:
  import ray  # pylint: disable=g-import-not-at-top
except ImportError:  # Optional extra: pip install "ray[default]".
  ray = None

_MAX_CONSECUTIVE_DEATHS = 5  # An actor that dies this often in a row is a bug, not bad luck.
# The folder holding the `i2a` package, so that local Ray workers import this checkout.
_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(i2a.__file__)))


class _RefSource(actor_lib.VariableSource):
  """The weights named by the driver's latest call, fetched from the object store only when new."""

  def __init__(self):
    self._ref, self._step = None, -1

  def offer(self, ref, step: int) -> None:
    self._ref, self._step = ref, step

  def latest_step(self) -> int:
    return self._step if self._ref is not None else -1

  def get_variables(self) -> tuple[Sequence[np.ndarray], int]:
    return ray.get(self._ref), self._step


class _RemoteActor:
  """Lives in a Ray worker process: one `Actor` with its own agent copy and environments."""

  def __init__(self, builder: backends.ActorBuilder, actor_id: int, threads: int):
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    self._source = _RefSource()
    self._actor = builder(actor_id, self._source)

  def unroll(self, weights_ref: list, step: int) -> actor_lib.ActorOutput:
    self._source.offer(weights_ref[0], step)
    return self._actor.unroll()

  def pid(self) -> int:
    return os.getpid()


def wait_reachable(address: str, timeout: float) -> None:
  """Waits until a TCP connection to `address` ('host:port', 'ray://host:port') succeeds.

  Ray's own client retries an unreachable address for minutes; this bounds the wait.

  Raises:
    ConnectionError: naming the address, after `timeout` seconds.
  """
  host_port = address.split("://", 1)[-1]
  host, _, port = host_port.rpartition(":")
  if not host or not port.isdigit():
    return  # 'auto' or another form Ray resolves itself (quickly: from a local file).
  deadline, error = time.monotonic() + timeout, None
  while True:
    try:
      with socket.create_connection((host, int(port)), timeout=max(min(5.0, timeout), 0.1)):
        return
    except OSError as e:
      error = e
    if time.monotonic() >= deadline:
      raise ConnectionError(f"Cannot reach the Ray cluster at {address!r} within {timeout:g} s ({error}); "
                            "check --ray_address (the head's host:port) or that the cluster is up.")
    time.sleep(min(1.0, max(deadline - time.monotonic(), 0.0)))


def init_ray(address: Optional[str], num_cpus: Optional[int] = None, connect_timeout: float = 60.0) -> bool:
  """Connects to the cluster at `address`, or starts a local one, unless Ray is already initialised.

  Returns:
    True if this call initialised Ray (the caller then shuts it down).

  Raises:
    ConnectionError: `address` is not reachable within `connect_timeout` seconds.
  """
  if ray is None:
    raise ImportError('The Ray backend needs Ray: pip install "ray[default]".')
  if ray.is_initialized():
    return False
  env_vars = {"TF_CPP_MIN_LOG_LEVEL": "2"}
  if address:  # The cluster's nodes must have this package installed (pip install -e .).
    wait_reachable(address, connect_timeout)
    ray.init(address=address, runtime_env={"env_vars": env_vars}, log_to_driver=False)
  else:
    env_vars["PYTHONPATH"] = os.pathsep.join(p for p in (_REPO_ROOT, os.environ.get("PYTHONPATH")) if p)
    ray.init(num_cpus=num_cpus or os.cpu_count(), runtime_env={"env_vars": env_vars},
             include_dashboard=False, log_to_driver=False)
  return True


class RayBackend(backends.Backend):
  """`num_actors` Ray actors, each using `cpus_per_actor` CPUs and as many TensorFlow threads.

  If it initialised Ray, `stop` shuts Ray down (also when the constructor fails), so no actor or local
  cluster outlives the run.

  Args:
    builder: the picklable recipe each Ray actor builds its agent and environments from.
    num_actors: Ray actors; one that dies is replaced (counted in `actor_restarts`).
    queue_size: unrolls buffered between the actors and the learner.
    address: a Ray cluster to join; None starts a local one.
    cpus_per_actor: CPUs Ray reserves for each actor (and its TensorFlow threads).
    connect_timeout: seconds to wait for `address` before giving up with an error.
  """

  def __init__(self, builder: backends.ActorBuilder, num_actors: int, queue_size: int,
               address: Optional[str] = None, cpus_per_actor: float = 1, connect_timeout: float = 60.0):
    super().__init__(queue_size)
    if num_actors < 1:
      raise ValueError(f"RayBackend: num_actors must be >= 1, got {num_actors}.")
    self.actors, self._thread = [], None
    self._owns_ray = init_ray(address, num_cpus=None if address else max(os.cpu_count() or 1, num_actors),
                              connect_timeout=connect_timeout)
    try:
      self._remote_cls = ray.remote(max_restarts=0)(_RemoteActor).options(num_cpus=cpus_per_actor)
      self._builder, self._threads = builder, max(1, int(cpus_per_actor))
      self.actors = [self._new_actor(i) for i in range(num_actors)]
    except BaseException:
      self.stop()
      raise
    self._weights_ref, self._step = None, -1
    self._lock = threading.Lock()
    self._stop = threading.Event()

  def _new_actor(self, actor_id: int):
    return self._remote_cls.remote(self._builder, actor_id, self._threads)

  def publish(self, weights: Sequence[np.ndarray], step: int) -> None:
    ref = ray.put(list(weights))  # Once per publish, whatever the number of actors.
    with self._lock:
      self._weights_ref, self._step = ref, int(step)

  def _submit(self, actor_id: int):
    with self._lock:
      ref, step = self._weights_ref, self._step
    return self.actors[actor_id].unroll.remote([ref], step)

  def _loop(self) -> None:
    pending = {self._submit(i): i for i in range(len(self.actors))}
    deaths = [0] * len(self.actors)
    while not self._stop.is_set():
      ready, _ = ray.wait(list(pending), num_returns=1, timeout=0.1)
      for ref in ready:
        actor_id = pending.pop(ref)
        try:
          output = ray.get(ref)
        except ray.exceptions.RayActorError as e:  # The process died: replace it.
          deaths[actor_id] += 1
          self.actor_restarts += 1
          logging.warning("Ray actor %d died (%s); starting a new one.", actor_id, type(e).__name__)
          ray.kill(self.actors[actor_id], no_restart=True)
          self.actors[actor_id] = self._new_actor(actor_id)
          if deaths[actor_id] >= _MAX_CONSECUTIVE_DEATHS:
            self.unroll_queue.fail(
                RuntimeError(f"Ray actor {actor_id} died {deaths[actor_id]} times in a row."))
            return
          pending[self._submit(actor_id)] = actor_id
        except Exception as e:  # pylint: disable=broad-except  # A bug in the actor: stop training.
          self.unroll_queue.fail(e)
          return
        else:
          deaths[actor_id] = 0
          pending[self._submit(actor_id)] = actor_id  # Keep the actor busy while the queue is full.
          if not self.unroll_queue.put(output):
            return

  def start(self) -> None:
    if self._thread is not None:
      raise RuntimeError("RayBackend: already started.")
    if self._weights_ref is None:
      raise RuntimeError("RayBackend: publish the initial weights before start().")
    self._thread = threading.Thread(target=self._loop, name="ray_driver", daemon=True)
    self._thread.start()

  def stop(self) -> None:
    if hasattr(self, "_stop"):
      self._stop.set()
    self.unroll_queue.close()
    if self._thread is not None:
      self._thread.join(timeout=30)
    try:
      for handle in self.actors:
        ray.kill(handle, no_restart=True)
    finally:
      self.actors = []
      if self._owns_ray and ray.is_initialized():
        ray.shutdown()
