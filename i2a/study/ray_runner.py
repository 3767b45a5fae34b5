"""Runs a study as Ray tasks: Ray schedules them and resolves what each waits for.

    exit_code = ray_runner.run_ray(tracker, jobs=2, address=None)   # A local Ray, or address='auto'.

Each run not yet done is one task (`num_cpus` = the run's cpus) running its subprocess with
execute.execute. The runs it waits for are passed to it as object refs, so Ray starts it only when
their outcomes exist; a task whose upstream did not finish returns at once as skipped. The driver
only reports: it waits on the tasks' refs for their ends and reads their starts from a Ray queue. On a
cluster, every node needs this checkout and the study's directories at the same path (a shared file
system), as the runs read each other's outputs.
"""
import queue
from typing import Optional

from i2a.study import execute
from i2a.study import runner

_POLL_SECS = 0.5  # How often the driver looks for starts while no task ends.


def _task(job: execute.Job, starts, *upstream: execute.Outcome) -> execute.Outcome:
  """One run, on a Ray worker; `upstream` are the outcomes of the runs it waits for (resolved by Ray)."""
  failed = [outcome.key for outcome in upstream if not outcome.ok]
  if failed:
    return execute.Outcome(job.run.key, None, skipped_because=failed[0])
  starts.put(job.run.key)
  return execute.execute(job)


def run_ray(tracker: runner.Tracker, jobs: int, address: Optional[str] = None) -> int:
  """Runs the study's remaining runs as Ray tasks; returns the exit status.

  Args:
    tracker: the study's progress.
    jobs: without `address`, the local Ray cluster gets CPUs for `jobs` of the largest runs side by side.
    address: a Ray cluster's address ('auto', 'HOST:PORT'), or None to start a local one.

  Raises:
    ConnectionError: `address` does not answer.
  """
  import ray  # pylint: disable=g-import-not-at-top  # The optional extra: pip install -e ".[ray]".
  from ray.util import queue as ray_queue  # pylint: disable=g-import-not-at-top
  from i2a.training.backends import ray_backend  # pylint: disable=g-import-not-at-top

  study = tracker.study
  cpus = max((study[key].cpus for key in tracker.to_run), default=1)
  started_here = ray_backend.init_ray(address, num_cpus=None if address else jobs * cpus)
  try:
    starts = ray_queue.Queue(actor_options={"num_cpus": 0})
    task = ray.remote(_task)
    refs = {}
    tracker.begin()
    for key in tracker.to_run:  # Upstream first (the tracker's order), so every ref exists when needed.
      run = study[key]
      upstream = [refs[n] for n in run.needs if n in refs]  # Runs done before the study need no task.
      refs[key] = task.options(num_cpus=run.cpus, max_retries=0, name=key).remote(
          execute.Job(run, tracker.cwd), starts, *upstream)
    pending = {ref: key for key, ref in refs.items()}
    while pending:
      ended, _ = ray.wait(list(pending), num_returns=1, timeout=_POLL_SECS)
      _report_starts(tracker, starts)
      for ref in ended:
        key = pending.pop(ref)
        try:
          outcome = ray.get(ref)
        except ray.exceptions.RayError as error:  # A worker died: Ray fails its dependants' tasks too.
          upstream = [n for n in study[key].needs if n in tracker.failed + tracker.skipped]
          outcome = execute.Outcome(key, None, skipped_because=upstream[0] if upstream else "",
                                    tail=(f"Ray: {type(error).__name__}: {error}",))
        tracker.ended(outcome)
    starts.shutdown()
  finally:
    if started_here:
      ray.shutdown()
  return tracker.end()


def _report_starts(tracker: runner.Tracker, starts) -> None:
  while True:
    try:
      tracker.started(starts.get_nowait())
    except queue.Empty:
      return

