"""Deterministic acting: the actors run in the learner's thread, one unroll at a time, on demand.

With `TrainConfig.deterministic`, the learner asks for a batch, the actors produce its unrolls in a
fixed round-robin order, each with the newest published weights, and only then does the learner step.
Nothing depends on thread timing, so the same seed gives the same unrolls and bit-identical weights
(at the cost of acting and learning no longer overlapping).
"""
from typing import Optional, Sequence

import numpy as np

from i2a.training import actor as actor_lib
from i2a.training import backends
from i2a.training.backends import local


class _OnDemandUnrolls:
  """Stands in for the unroll queue: each `get` runs the next actor's `unroll` in this thread."""

  def __init__(self):
    self.actors: list[actor_lib.Actor] = []
    self._next = 0
    self.closed = False

  def get(self, timeout: Optional[float] = None) -> actor_lib.ActorOutput:
    del timeout  # The unroll is produced here, not waited for.
    if self.closed or not self.actors:
      raise RuntimeError("SyncBackend: not started, or stopped.")
    actor = self.actors[self._next]
    self._next = (self._next + 1) % len(self.actors)
    return actor.unroll()

  def close(self) -> None:
    self.closed = True

  def qsize(self) -> int:
    return 0


class SyncBackend(backends.Backend):
  """`num_actors` actors stepped in turn by the learner's thread (see the module docstring).

  Args:
    builder: makes actor i's agent and environments.
    num_actors: actors stepped in turn, one unroll per `get`.
  """

  def __init__(self, builder: backends.ActorBuilder, num_actors: int):
    super().__init__(queue_size=1)
    if num_actors < 1:
      raise ValueError(f"SyncBackend: num_actors must be >= 1, got {num_actors}.")
    self._builder, self._num_actors = builder, num_actors
    self._weights = local.WeightsBox()
    self.unroll_queue = _OnDemandUnrolls()

  def publish(self, weights: Sequence[np.ndarray], step: int) -> None:
    self._weights.publish(weights, step)

  def start(self) -> None:
    if self.unroll_queue.actors:
      raise RuntimeError("SyncBackend: already started.")
    self.unroll_queue.actors = [self._builder(i, self._weights) for i in range(self._num_actors)]

  def stop(self) -> None:
    self.unroll_queue.close()
