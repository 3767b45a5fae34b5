"""The transport between actors and the learner: a bounded queue of unrolls and their batching.

A bounded queue keeps the actors at most `maxsize` unrolls ahead of the learner, which bounds the policy
lag (IMPALA, Espeholt et al. 2018, Sec. 3). When each actor has fewer environment copies than the
learner's batch, `Batcher` concatenates B_total / N unrolls of [T+1, N] into one [T+1, B_total].
"""
import queue
import threading
import time
from typing import Optional, Sequence

import numpy as np

from i2a.training import actor as actor_lib
from i2a import types


class QueueClosed(Exception):
  """Raised by `UnrollQueue.get` once the queue is closed and empty."""


class UnrollQueue:
  """A thread-safe bounded FIFO of `ActorOutput`s that producers can fail or close.

  Args:
    maxsize: unrolls held before `put` blocks (the actors wait for the learner).
  """

  def __init__(self, maxsize: int):
    if maxsize < 1:
      raise ValueError(f"UnrollQueue: maxsize must be >= 1, got {maxsize}.")
    self._queue = queue.Queue(maxsize)
    self._closed = threading.Event()
    self._error: Optional[BaseException] = None

  @property
  def closed(self) -> bool:
    return self._closed.is_set()

  def qsize(self) -> int:
    return self._queue.qsize()

  def put(self, item: actor_lib.ActorOutput) -> bool:
    """Blocks until there is room; returns False (dropping `item`) if the queue gets closed first."""
    while not self._closed.is_set():
      try:
        self._queue.put(item, timeout=0.1)
        return True
      except queue.Full:
        continue
    return False

  def get(self, timeout: Optional[float] = None) -> actor_lib.ActorOutput:
    """The oldest unroll.

    Raises:
      RuntimeError: if a producer failed (chained to its exception).
      QueueClosed: if the queue is closed.
      TimeoutError: if nothing arrived within `timeout` seconds.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
      if self._error is not None:
        raise RuntimeError(f"An actor failed: {self._error!r}") from self._error
      if self._closed.is_set():
        raise QueueClosed("The unroll queue is closed.")
      wait = 0.1 if deadline is None else min(0.1, deadline - time.monotonic())
      if wait <= 0:
        raise TimeoutError(f"No unroll arrived within {timeout} s.")
      try:
        return self._queue.get(timeout=wait)
      except queue.Empty:
        continue

  def fail(self, error: BaseException) -> None:
    """Makes every later `get` raise: a producer hit `error`."""
    if self._error is None:
      self._error = error

  def close(self) -> None:
    """Unblocks producers and consumers; later puts are dropped."""
    self._closed.set()


def stack_unrolls(trajectories: Sequence[types.Trajectory]) -> types.Trajectory:
  """Concatenates unrolls along the batch axis.

  Args:
    trajectories: K Trajectories of NumPy arrays, each [T+1, N_k, ...] with initial_state [N_k, ...]
      (and an imagination in all of them or in none).

  Returns:
    One Trajectory [T+1, sum N_k, ...] (initial_state [sum N_k, ...]), in the order given.
  """
  if not trajectories:
    raise ValueError("stack_unrolls: no unrolls given.")
  lengths = {t.step_type.shape[0] for t in trajectories}
  if len(lengths) != 1:
    raise ValueError(f"stack_unrolls: unrolls of different lengths {sorted(lengths)} cannot be batched.")
  imaginations = [t.imagination for t in trajectories]
  if any(i is None for i in imaginations) and not all(i is None for i in imaginations):
    raise ValueError("stack_unrolls: some unrolls carry their imagination and others do not.")
  imagination = None
  if imaginations[0] is not None:
    imagination = type(imaginations[0])(*(None if parts[0] is None else np.concatenate(parts, axis=1)
                                          for parts in zip(*imaginations)))
  return types.Trajectory(*(
      np.concatenate(fields, axis=0 if name == "initial_state" else 1)
      for name, fields in zip(types.Trajectory._fields[:-1], zip(*trajectories))), imagination=imagination)


class Batcher:
  """Takes unrolls off a queue until they fill a learner batch of `batch_size` environment copies.

  Args:
    unroll_queue: where the actors put their unrolls.
    batch_size: environment copies per learner batch (a multiple of each unroll's copies).
  """

  def __init__(self, unroll_queue: UnrollQueue, batch_size: int):
    if batch_size < 1:
      raise ValueError(f"Batcher: batch_size must be >= 1, got {batch_size}.")
    self._queue = unroll_queue
    self._batch_size = batch_size

  def next_batch(self, timeout: Optional[float] = None
                 ) -> tuple[types.Trajectory, list[actor_lib.ActorOutput]]:
    """Returns (the batched Trajectory [T+1, batch_size, ...], the unrolls it was made of).

    Raises:
      ValueError: if the actors' copies do not add up to `batch_size` exactly.
      (and what `UnrollQueue.get` raises)
    """
    outputs, total = [], 0
    while total < self._batch_size:
      output = self._queue.get(timeout)
      total += output.trajectory.step_type.shape[1]
      outputs.append(output)
    if total != self._batch_size:
      raise ValueError(f"Batcher: unrolls of {[o.trajectory.step_type.shape[1] for o in outputs]} copies "
                       f"do not add up to batch_size={self._batch_size}; make batch_size a multiple of "
                       "the copies per actor.")
    return stack_unrolls([o.trajectory for o in outputs]), outputs
