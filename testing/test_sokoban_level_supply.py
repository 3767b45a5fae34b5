"""envs/sokoban/level_supply.py: seeded fresh levels, a bounded pool, replays when dry, clean shutdown."""
import gc
import multiprocessing
import os
import queue
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from envs import sokoban
from envs.sokoban import config as config_lib
from envs.sokoban import level_supply
from i2a import games
from i2a.training import environments

SIZE, BOXES = 7, 2  # The fastest size to generate (~1,700 levels/s): the tests wait little.
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def reference(seed, count, size=SIZE, boxes=BOXES):
  """The first `count` fresh levels of a supply seeded with `seed`, generated here, in order."""
  return [level_supply.fresh_level(seed, j, size, size, boxes) for j in range(count)]


def supply(**kwargs):
  args = dict(width=SIZE, height=SIZE, num_boxes=BOXES, seed=0, num_workers=1, pool_size=64)
  args.update(kwargs)
  return level_supply.LevelSupply(**args)


def wait_until(condition, what, timeout=60.0):
  """Polls `condition` (a liveness wait with a generous limit, not a speed check)."""
  deadline = time.monotonic() + timeout
  while not condition():
    assert time.monotonic() < deadline, f"timed out waiting until {what}"
    time.sleep(0.02)


@pytest.mark.parametrize("workers,chunk", [(1, 8), (2, 3), (3, 1)], ids=["one", "two", "three"])
def test_fresh_levels_are_the_seeded_sequence_whatever_the_workers(workers, chunk):
  with supply(seed=5, num_workers=workers, chunk_size=chunk, when_dry="wait") as s:
    got = [s.next_level() for _ in range(20)]
    assert s.stats().fresh == 20 and s.stats().replayed == 0
  expected = reference(5, 20)
  for level, want in zip(got, expected):
    assert level.dtype == np.uint8 and level.shape == (SIZE, SIZE) and not level.flags.writeable
    np.testing.assert_array_equal(level, want)
  config_lib.validate_levels(got, SIZE, SIZE, BOXES)  # One player, two boxes off two targets, each.
  assert len({level.tobytes() for level in got}) > 15  # Distinct levels, not one level repeated.
  other = reference(6, 20)
  assert sum(np.array_equal(a, b) for a, b in zip(got, other)) < 5  # Another seed, other levels.


def test_workers_make_no_more_than_the_pool_holds():
  with supply(seed=1, pool_size=8, chunk_size=2, when_dry="replay") as s:
    assert s.queue_chunks == 4
    s.next_level()  # Chunk 0 taken: its other level is ready; up to 4 more chunks may wait.
    q, worker = s._queues[0], s._processes[0]  # pylint: disable=protected-access
    wait_until(lambda: q.qsize() == 4, "the pool is full")
    time.sleep(0.3)  # Time for hundreds more levels, were the pool unbounded.
    os.kill(worker.pid, signal.SIGSTOP)  # Now nothing new arrives: count what was made ahead.
    try:
      chunks = []
      while True:
        try:
          chunks.append(q.get(timeout=0.5))
        except queue.Empty:
          break
    finally:
      os.kill(worker.pid, signal.SIGCONT)
  assert [index for index, _ in chunks] == [1, 2, 3, 4]  # Chunk 0 was taken; chunk 5 never made it.
  assert all(levels.shape == (2, SIZE, SIZE) for _, levels in chunks)


def test_a_dry_pool_replays_recent_levels_instead_of_waiting():
  replay_size, chunk = 3, 2
  with supply(seed=2, pool_size=4, chunk_size=chunk, replay_size=replay_size, min_replay=4,
              when_dry="replay") as s:
    first = s.next_level()  # Nothing to replay yet: this one waits.
    wait_until(lambda: s._queues[0].qsize() == 2, "the pool is full")  # pylint: disable=protected-access
    os.kill(s._processes[0].pid, signal.SIGSTOP)  # pylint: disable=protected-access  # The pool runs dry.
    try:
      fresh, replays = [first], 0
      for i in range(100):
        level = s.next_level()
        if s.stats().fresh > len(fresh):
          fresh.append(level)
        else:
          replays += 1
          assert i >= 3  # No replay before min_replay = 4 fresh levels.
          assert any(np.array_equal(level, recent) for recent in fresh[-replay_size:])
      stats = s.stats()
    finally:
      os.kill(s._processes[0].pid, signal.SIGCONT)  # pylint: disable=protected-access
  assert stats.fresh + stats.replayed == 101 and stats.replayed == replays
  assert 4 <= len(fresh) <= 1 + 1 + 2 * chunk  # At most what was made when the worker stopped.
  for level, want in zip(fresh, reference(2, len(fresh))):  # The fresh ones are still the sequence.
    np.testing.assert_array_equal(level, want)


def test_close_and_garbage_collection_stop_every_worker():
  s = supply(num_workers=2, chunk_size=1)
  processes = list(s._processes)  # pylint: disable=protected-access
  assert all(p.is_alive() and p.daemon for p in processes)
  assert set(processes) <= set(multiprocessing.active_children())
  s.next_level()
  s.next_level()  # Made by worker 1: both workers have set their priority.
  niceness = min(19, os.getpriority(os.PRIO_PROCESS, 0) + 10)  # Workers use the CPU time left over.
  assert [os.getpriority(os.PRIO_PROCESS, p.pid) for p in processes] == [niceness] * 2
  s.close()
  s.close()  # Idempotent.
  assert s.closed and not any(p.is_alive() for p in processes)
  assert not set(processes) & set(multiprocessing.active_children())
  with pytest.raises(RuntimeError, match="closed"):
    s.next_level()
  s = supply(num_workers=1)
  processes = list(s._processes)  # pylint: disable=protected-access
  del s
  gc.collect()
  assert not any(p.is_alive() for p in processes)


def test_workers_exit_when_the_consumer_process_is_killed():
  script = ("import os, sys, time; from envs.sokoban import level_supply; "
            "s = level_supply.LevelSupply(7, 7, 2, seed=0, num_workers=2, pool_size=8); s.next_level(); "
            "print(' '.join(str(p.pid) for p in s._processes), flush=True); time.sleep(60)")
  parent = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True)
  try:
    pids = [int(pid) for pid in parent.stdout.readline().split()]
    assert len(pids) == 2
  finally:
    parent.kill()  # SIGKILL: no atexit, no finalizers; the workers must notice on their own.
    parent.wait()

  def gone(pid):
    try:
      with open(f"/proc/{pid}/stat") as f:
        return f.read().split(") ")[1][0] == "Z"  # A zombie has exited.
    except FileNotFoundError:
      return True
  wait_until(lambda: all(gone(pid) for pid in pids), "the orphaned workers exit")


def test_a_failing_worker_is_reported_by_next_level():
  with level_supply.LevelSupply(5, 5, 7, seed=0) as s:  # 7 boxes cannot fit a 3x3 floor.
    with pytest.raises(RuntimeError, match="GenerationError"):
      s.next_level()


@pytest.mark.parametrize("bad,message", [
    (dict(num_workers=0), "num_workers"), (dict(pool_size=0), "pool_size"),
    (dict(when_dry="block"), "when_dry"), (dict(seed=-1), "seed"), (dict(width=4), "width"),
    (dict(nice=-1), "nice"), (dict(min_replay=0), "min_replay")])
def test_bad_arguments_are_refused(bad, message):
  with pytest.raises(ValueError, match=message):
    supply(**bad)


def test_envs_take_the_supply_levels_in_order_and_close_it():
  s = supply(seed=4, when_dry="wait")
  env = sokoban.BatchedSokoban(3, width=SIZE, height=SIZE, num_boxes=BOXES, max_steps=2, level_supply=s)
  expected = reference(4, 6)
  env.reset()
  np.testing.assert_array_equal(env.current_levels(), expected[:3])
  for _ in range(2):  # Every copy ends (solved or out of steps) within max_steps = 2 ...
    env.step(np.array([1, 2, 3], np.int32))
  assert (env.step(np.zeros(3, np.int32)).step_type == 0).all()  # ... and the next step restarts them,
  np.testing.assert_array_equal(env.current_levels(), expected[3:])  # in copy order.
  env.close()
  assert s.closed
  single = sokoban.Sokoban(width=SIZE, height=SIZE, num_boxes=BOXES, level_supply=supply(seed=4))
  single.reset()
  np.testing.assert_array_equal(single.current_level(), expected[0])
  single.close()


def test_envs_refuse_a_supply_that_does_not_fit():
  with supply() as s:
    with pytest.raises(ValueError, match="num_boxes"):
      sokoban.BatchedSokoban(2, width=SIZE, height=SIZE, num_boxes=3, level_supply=s)
    with pytest.raises(ValueError, match="not both"):
      sokoban.Sokoban(width=SIZE, height=SIZE, num_boxes=BOXES, levels=reference(0, 1), level_supply=s)


def test_build_env_uses_the_pool_for_generated_levels_unless_told_not_to():
  geometry = games.Geometry("sokoban", room_size=SIZE, pixels_per_cell=1)
  config = environments.EnvConfig(num_boxes=BOXES, level_when_dry="wait", level_workers=2)
  before = set(multiprocessing.active_children())
  env = environments.build_env(geometry, config, 2, seed=9)
  assert len(set(multiprocessing.active_children()) - before) == 2
  env.reset()
  np.testing.assert_array_equal(env.current_levels(), reference(9, 2))
  env.close()
  assert set(multiprocessing.active_children()) <= before
  inline = environments.build_env(geometry, environments.EnvConfig(num_boxes=BOXES, level_workers=0), 2, seed=9)
  assert set(multiprocessing.active_children()) <= before  # No worker: each copy generates its own.
  inline.reset()
  own = sokoban.Sokoban(width=SIZE, height=SIZE, num_boxes=BOXES, seed=9 + 1)
  own.reset()
  np.testing.assert_array_equal(inline.current_levels()[1], own.current_level())


@pytest.mark.parametrize("bad,message", [(dict(level_workers=-1), "level_workers"),
                                         (dict(level_when_dry="block"), "level_when_dry"),
                                         (dict(level_pool_size=0), "level_pool_size")])
def test_env_config_refuses_bad_supply_settings(bad, message):
  with pytest.raises(ValueError, match=message):
    environments.EnvConfig(**bad)
