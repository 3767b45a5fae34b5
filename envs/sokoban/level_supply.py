"""A pool of generated Sokoban levels, filled by background processes, that never holds up the envs.

Generating a level (App. D.4, `envs.sokoban.generator`) costs milliseconds of pure Python: more than
the steps of a short episode, so once an agent solves levels quickly, generating one per episode on the
actor's thread caps frames/s (and holds the GIL the learner needs). Here `num_workers` spawned processes
generate levels ahead into bounded queues and the environments take them with `next_level()`.

Determinism: fresh level j is `fresh_level(entropy, j, ...)`, generated from its own seed sequence
(entropy, spawn key (0, j)); worker w makes chunks w, w + num_workers, ... of `chunk_size` levels and the
consumer takes chunks in index order. So the fresh levels come in one order fixed by the seed, whatever
the number of workers, the chunk size or the timing. When the next fresh level is not ready:
  - when_dry='wait': block until it is. Every level handed out is fresh: the sequence is a function of
    the seed alone (use it where levels must be reproducible: evaluation, data collection).
  - when_dry='replay' (training's default): hand out a level drawn uniformly from a ring of the last
    `replay_size` fresh levels instead, so level generation never limits frames/s. Which hand-outs are
    replays depends on timing; the fresh ones are still the seeded sequence, in order. Replays are
    counted (`stats()`) and logged at most once a minute. Until `min_replay` fresh levels have been
    handed out (so that early replays do not repeat a handful of levels), it waits.
Memory is bounded: each worker's queue holds at most ceil(pool_size / (chunk_size * num_workers))
chunks, plus the chunk being made; the ring is uint8 [replay_size, height, width].
"""
import collections
import dataclasses
import logging
import math
import multiprocessing
import os
import queue as queue_lib
import sys
import threading
import time
import traceback
import weakref
from typing import Optional

import numpy as np

from envs.sokoban import config as config_lib
from envs.sokoban import generator

WHEN_DRY = ("replay", "wait")
_POLL_SECONDS = 0.2  # How often blocked workers and a waiting consumer check that the other side lives.
_DRY_POLL_SECONDS = 1e-3  # A dry pool is looked at no more often than this (a look costs ~40 us).
_LOG_EVERY_SECONDS = 60.0
_START_LOCK = threading.Lock()
_log = logging.getLogger(__name__)


@dataclasses.dataclass
class LevelSupplyStats:
  """Counts since the supply started: fresh and replayed levels handed out, and blocking waits."""
  fresh: int = 0
  replayed: int = 0
  waits: int = 0
  wait_seconds: float = 0.0


def fresh_level(entropy: int, index: int, width: int, height: int, num_boxes: int,
                config: Optional[generator.GeneratorConfig] = None) -> np.ndarray:
  """uint8 [height, width]: fresh level `index` of the supply seeded with `entropy` (checked)."""
  rng = np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=(0, index)))
  level = generator.generate_level(rng, width=width, height=height, num_boxes=num_boxes, config=config)
  return config_lib.validate_levels([level], height, width, num_boxes, "generate_level() output")[0]


def _put(out: multiprocessing.Queue, item, stop, parent) -> bool:
  """Puts `item` once there is room; False if told to stop, or if the consumer's process is gone."""
  while not stop.is_set() and (parent is None or parent.is_alive()):
    try:
      out.put(item, timeout=_POLL_SECONDS)
      return True
    except queue_lib.Full:
      pass
  return False


def _work(worker: int, num_workers: int, entropy: int, shape: tuple, chunk_size: int,
          config: Optional[generator.GeneratorConfig], out: multiprocessing.Queue, stop, nice: int) -> None:
  """A worker process: puts (chunk index, uint8 [chunk_size, H, W]) for chunks worker, worker + k, ..."""
  if nice and hasattr(os, "nice"):
    os.nice(nice)
  parent = multiprocessing.parent_process()
  width, height, num_boxes = shape
  chunk = worker
  try:
    while not stop.is_set():
      start = chunk * chunk_size
      levels = np.stack([fresh_level(entropy, j, width, height, num_boxes, config)
                         for j in range(start, start + chunk_size)])
      if not _put(out, (chunk, levels), stop, parent):
        break
      chunk += num_workers
  except Exception:  # pylint: disable=broad-except  # Reported to the consumer, which raises it.
    if _put(out, ("error", traceback.format_exc()), stop, parent):
      return  # Exiting flushes the report into the pipe.
  out.cancel_join_thread()  # Stopped: exit at once, even with a chunk unsent.


def _start_without_main(process: multiprocessing.Process) -> None:
  """Starts a spawned process without re-importing the parent's `__main__` in it.

  A spawned child normally runs the parent's main module again (`python -m launch.train` would import
  TensorFlow in every worker: seconds and hundreds of MB). The worker needs only this module, so the
  main module's `__spec__` and `__file__` are hidden while the process starts.
  """
  main = sys.modules["__main__"]
  with _START_LOCK:
    saved = {name: main.__dict__[name] for name in ("__spec__", "__file__") if name in main.__dict__}
    try:
      main.__spec__ = None
      main.__dict__.pop("__file__", None)
      process.start()
    finally:
      main.__dict__.pop("__spec__", None)
      main.__dict__.update(saved)


def _shutdown(processes, queues, stop, counts: LevelSupplyStats) -> None:
  """Stops the workers (terminating any that do not stop within a second) and closes the queues."""
  if counts.replayed:
    _log.warning("Sokoban level supply handed out %d fresh and %d replayed levels (%.0f%% replays).",
                 counts.fresh, counts.replayed, 100 * counts.replayed / (counts.fresh + counts.replayed))
  stop.set()
  deadline = time.monotonic() + 1.0
  for process in processes:
    process.join(timeout=max(0.0, deadline - time.monotonic()))
  for process in processes:
    if process.is_alive():
      process.terminate()
      process.join(timeout=1.0)
    if process.is_alive():  # E.g. a stopped (SIGSTOP) process, which SIGTERM does not end.
      process.kill()
      process.join(timeout=5.0)
  for q in queues:
    q.close()


class LevelSupply:
  """Fresh generated levels from background processes, with a replay ring for when they run dry."""

  def __init__(self, width: int = 10, height: int = 10, num_boxes: int = 4, seed: Optional[int] = None,
               num_workers: int = 1, pool_size: int = 4096, when_dry: str = "replay",
               replay_size: int = 10_000, min_replay: int = 256, chunk_size: int = 8, nice: int = 10,
               generator_config: Optional[generator.GeneratorConfig] = None):
    """Starts the workers.

    Args:
      width, height, num_boxes: the levels' size in cells and box count (as for `generate_level`).
      seed: a non-negative int fixing the fresh levels; None for fresh OS entropy.
      num_workers: generator processes, >= 1.
      pool_size: levels the workers may make ahead of the consumer (rounded up to whole chunks per
        worker).
      when_dry: 'replay' or 'wait' (see the module docstring).
      replay_size: capacity of the ring of recent fresh levels that replays draw from.
      min_replay: fresh levels handed out before the first replay (capped at `replay_size`).
      chunk_size: levels per message from a worker.
      nice: niceness added to the workers' scheduling priority (POSIX), so that they generate with
        the CPU time that acting and learning leave; 0 to compete as equals.
      generator_config: generator parameters; defaults to `GeneratorConfig()`.

    Raises:
      ValueError: for a bad argument.
    """
    generator.check_arguments(width, height, num_boxes)
    for name, value in (("num_workers", num_workers), ("pool_size", pool_size),
                        ("replay_size", replay_size), ("min_replay", min_replay),
                        ("chunk_size", chunk_size)):
      if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    if isinstance(nice, bool) or not isinstance(nice, (int, np.integer)) or nice < 0:
      raise ValueError(f"nice must be an int >= 0, got {nice!r}")
    if when_dry not in WHEN_DRY:
      raise ValueError(f"when_dry must be one of {WHEN_DRY}, got {when_dry!r}")
    if seed is not None and (not isinstance(seed, (int, np.integer)) or seed < 0):
      raise ValueError(f"seed must be a non-negative int or None, got {seed!r}")
    self.width, self.height, self.num_boxes = int(width), int(height), int(num_boxes)
    self.when_dry = when_dry
    self.entropy = int(seed) if seed is not None else int(np.random.SeedSequence().entropy)
    self._chunk_size = int(chunk_size)
    self.queue_chunks = math.ceil(pool_size / (chunk_size * num_workers))  # Per worker.
    self._replay_rng = np.random.default_rng(np.random.SeedSequence(self.entropy, spawn_key=(1,)))
    self._ring = np.zeros((replay_size, height, width), np.uint8)
    self._ring_count = self._ring_next = 0
    self._min_replay = min(min_replay, replay_size)
    self._ready: collections.deque = collections.deque()
    self._next_chunk = 0
    self._next_poll = 0.0  # When a dry pool is looked at next (monotonic seconds).
    self._counts = LevelSupplyStats()  # Shared with the finalizer, which reports it.
    self._logged = (time.monotonic(), 0, 0)  # (time, fresh, replayed) at the last log line.
    self._lock = threading.Lock()
    context = multiprocessing.get_context("spawn")
    self._stop = context.Event()
    self._queues = [context.Queue(self.queue_chunks) for _ in range(num_workers)]
    self._processes = [
        context.Process(target=_work, name=f"sokoban_levels_{w}", daemon=True,
                        args=(w, num_workers, self.entropy, (self.width, self.height, self.num_boxes),
                              self._chunk_size, generator_config, self._queues[w], self._stop, nice))
        for w in range(num_workers)]
    # Runs on close(), when the supply is garbage collected, or at interpreter exit.
    self._finalizer = weakref.finalize(self, _shutdown, self._processes, self._queues, self._stop,
                                       self._counts)
    for process in self._processes:
      _start_without_main(process)

  @property
  def closed(self) -> bool:
    return not self._finalizer.alive

  def close(self) -> None:
    """Stops and reaps the workers (idempotent)."""
    self._finalizer()

  def __enter__(self) -> "LevelSupply":
    return self

  def __exit__(self, *unused_exc) -> None:
    self.close()

  def stats(self) -> LevelSupplyStats:
    return dataclasses.replace(self._counts)

  def next_level(self) -> np.ndarray:
    """uint8 [height, width], read-only: the next fresh level, or a replay (see `when_dry`).

    Raises:
      RuntimeError: the supply is closed, or a worker failed or died.
    """
    with self._lock:
      if self.closed:
        raise RuntimeError("LevelSupply.next_level: the supply is closed")
      if not self._ready and (self.when_dry == "wait" or time.monotonic() >= self._next_poll):
        self._take_chunk(block=False)
        self._next_poll = time.monotonic() + _DRY_POLL_SECONDS
      if not self._ready and self.when_dry == "replay" and self._ring_count >= self._min_replay:
        self._counts.replayed += 1
        self._maybe_log()
        level = self._ring[self._replay_rng.integers(self._ring_count)].copy()
        level.setflags(write=False)
        return level
      if not self._ready:
        start = time.monotonic()
        self._take_chunk(block=True)
        self._counts.waits += 1
        self._counts.wait_seconds += time.monotonic() - start
      self._counts.fresh += 1
      level = self._ready.popleft()
      self._ring[self._ring_next] = level
      self._ring_next = (self._ring_next + 1) % len(self._ring)
      self._ring_count = min(self._ring_count + 1, len(self._ring))
      return level

  def _take_chunk(self, block: bool) -> None:
    """Moves the next chunk's levels into `_ready` if it has arrived (waits for it if `block`)."""
    worker = self._next_chunk % len(self._queues)
    q, process = self._queues[worker], self._processes[worker]
    while True:
      try:
        item = q.get(True, _POLL_SECONDS) if block else q.get_nowait()
        break
      except queue_lib.Empty:
        if process.is_alive():
          if block:
            continue
          return
        try:  # A worker only ends on its own after a failure: look for its report.
          item = q.get(True, _POLL_SECONDS)
          break
        except queue_lib.Empty:
          pass
        raise RuntimeError(f"Sokoban level worker {worker} died (exit code {process.exitcode}) without "
                           "reporting an error")
    index, levels = item
    if index == "error":
      raise RuntimeError(f"Sokoban level worker {worker} failed:\n{levels}")
    if index != self._next_chunk:
      raise RuntimeError(f"level chunk {index} arrived where chunk {self._next_chunk} was due")
    levels.setflags(write=False)
    self._ready.extend(levels)
    self._next_chunk += 1

  def _maybe_log(self) -> None:
    """Logs the first replay, then the share of replays at most once every `_LOG_EVERY_SECONDS`."""
    now, counts = time.monotonic(), self._counts
    since, fresh, replayed = self._logged
    if counts.replayed == 1:
      _log.warning("Sokoban level supply ran dry after %d fresh levels: replaying recent levels while "
                   "none is ready (more level workers make more fresh levels).", counts.fresh)
    elif now - since >= _LOG_EVERY_SECONDS:
      new_fresh, new_replayed = counts.fresh - fresh, counts.replayed - replayed
      _log.warning("Sokoban level supply: %.0f%% of the last %d levels were replays.",
                100 * new_replayed / max(new_fresh + new_replayed, 1), new_fresh + new_replayed)
    else:
      return
    self._logged = (now, counts.fresh, counts.replayed)
