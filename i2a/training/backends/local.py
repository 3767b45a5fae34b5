"""Actors as threads of the learner's process (one machine; TensorFlow ops release the GIL)."""
import threading
from typing import Optional, Sequence

from absl import logging
import numpy as np

from i2a.training import actor as actor_lib
from i2a.training import backends


class WeightsBox(actor_lib.VariableSource):
  """The newest published weights, shared by reference between the learner and actor threads."""

  def __init__(self):
    self._lock = threading.Lock()
    self._weights: Optional[Sequence[np.ndarray]] = None
    self._step = -1

  def publish(self, weights: Sequence[np.ndarray], step: int) -> None:
    weights = [np.array(w, copy=True) for w in weights]  # Actors must never see a half-updated set.
    with self._lock:
      self._weights, self._step = weights, int(step)

  def latest_step(self) -> int:
    return self._step

  def get_variables(self) -> tuple[Sequence[np.ndarray], int]:
    with self._lock:
      if self._weights is None:
        raise RuntimeError("WeightsBox: no weights have been published yet.")
      return self._weights, self._step


class LocalBackend(backends.Backend):
  """`num_actors` actor threads; an exception in any of them is raised by the queue's `get`.

  Args:
    builder: makes actor i's agent and environments.
    num_actors: actor threads.
    queue_size: unrolls buffered between the actors and the learner.
  """

  def __init__(self, builder: backends.ActorBuilder, num_actors: int, queue_size: int):
    super().__init__(queue_size)
    if num_actors < 1:
      raise ValueError(f"LocalBackend: num_actors must be >= 1, got {num_actors}.")
    self._builder = builder
    self._num_actors = num_actors
    self._weights = WeightsBox()
    self._threads: list[threading.Thread] = []

  def publish(self, weights: Sequence[np.ndarray], step: int) -> None:
    self._weights.publish(weights, step)

  def _run(self, actor_id: int) -> None:
    actor = None
    try:
      actor = self._builder(actor_id, self._weights)
      while not self.unroll_queue.closed:
        if not self.unroll_queue.put(actor.unroll()):
          break
    except Exception as e:  # pylint: disable=broad-except  # Reported to the learner through the queue.
      logging.exception("Actor %d failed.", actor_id)
      self.unroll_queue.fail(e)
    finally:
      if actor is not None:
        actor.close()  # Stops the environment's level-supply workers with the thread, not at exit.

  def start(self) -> None:
    if self._threads:
      raise RuntimeError("LocalBackend: already started.")
    self._threads = [threading.Thread(target=self._run, args=(i,), name=f"actor_{i}", daemon=True)
                     for i in range(self._num_actors)]
    for thread in self._threads:
      thread.start()

  def stop(self) -> None:
    self.unroll_queue.close()
    for thread in self._threads:
      thread.join(timeout=30)
