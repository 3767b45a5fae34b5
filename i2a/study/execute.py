"""One run as a subprocess: its output appended to `<run dir>/study.log`, its outcome with the log's tail.

    outcome = execute.execute(execute.Job(run, cwd=os.getcwd()))

Plain data in and out, so a thread of the local runner and a Ray task on another machine call the same
function. An interrupted run needs nothing special: the binaries resume from their own checkpoints
when the same command runs again. After a zero exit, a run whose completion is the runner's own marker
gets its study_done.json here, beside its log, and every run's completion is read again: a binary
stopped by SIGTERM exits 0 as well, and the runs that wait for it must not start.

Two study commands may share runs (the ablation study waits for the five-seed study's agents), so each run
holds an exclusive lock on `<run dir>/study.lock` while it runs. A second command that reaches the same run
waits for the lock, then reads the run's completion again and does not run it twice. The binary inherits the
lock, so it stays held even if the study command that started it is killed first.
"""
import dataclasses
import datetime
import fcntl
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Optional

from i2a.study import completion
from i2a.study import graph

TAIL_LINES = 15  # Of a failed run's log, in the failure report.
LOCK_FILE = "study.lock"
_RUNNING: set = set()  # The subprocesses of this process's runs, for `terminate_running`.
_RUNNING_LOCK = threading.Lock()


def terminate_running(signum: int = signal.SIGTERM) -> int:
  """Sends `signum` to every run this process has running (each binary saves a checkpoint and exits 0
  on SIGTERM, to be resumed by the same command); returns how many were signalled."""
  with _RUNNING_LOCK:
    running = list(_RUNNING)
  for process in running:
    process.send_signal(signum)
  return len(running)


@dataclasses.dataclass(frozen=True)
class Job:
  """What a worker needs to run one run.

  Attributes:
    run: the run.
    cwd: the directory its command runs in and its paths are relative to (the repository root, where
      the flag files are).
  """
  run: graph.Run
  cwd: str

  @property
  def log_path(self) -> str:
    return os.path.join(self.cwd, self.run.run_dir, graph.LOG_FILE)


@dataclasses.dataclass(frozen=True)
class Outcome:
  """How a run ended.

  Attributes:
    key: the run's key.
    exit_code: the subprocess's exit status (negative: killed by that signal); None if it never ran.
    status: the run's completion.Status after a zero exit (a run stopped early by a signal exits 0
      too), else None.
    seconds: its wall time.
    tail: the last lines this attempt wrote to the log, if it did not finish.
    skipped_because: for a run that did not start, the upstream run that did not finish.
  """
  key: str
  exit_code: Optional[int]
  status: Optional[completion.Status] = None
  seconds: float = 0.0
  tail: tuple[str, ...] = ()
  skipped_because: str = ""

  @property
  def ok(self) -> bool:
    """The run exited 0 and is done: what lets the runs that wait for it start."""
    return self.exit_code == 0 and self.status is not None and self.status.done


def tail(path: str, offset: int, lines: int = TAIL_LINES) -> tuple[str, ...]:
  """The last `lines` lines written to `path` from byte `offset` on."""
  try:
    with open(path, "rb") as f:
      f.seek(offset)
      text = f.read().decode("utf-8", errors="replace")
  except OSError:
    return ()
  return tuple(text.rstrip("\n").splitlines()[-lines:])


def _lock(job: Job, log) -> tuple[int, bool]:
  """Takes the run's lock (module docstring), waiting if another process holds it; returns its file
  descriptor and whether it had to wait."""
  fd = os.open(os.path.join(os.path.dirname(job.log_path), LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o644)
  try:
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd, False
  except BlockingIOError:
    log.write(f"Another study command is running {job.run.key}; waiting for it to end.\n".encode())
    log.flush()
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd, True


def execute(job: Job) -> Outcome:
  """Runs `job` to its end with the worker's interpreter (its output goes to the log only), then reads
  whether the run is done. A run that another study command finished while this one waited for its lock
  is not run again."""
  run = job.run
  os.makedirs(os.path.dirname(job.log_path), exist_ok=True)
  start = time.monotonic()
  with open(job.log_path, "ab") as log:
    lock, waited = _lock(job, log)
    try:
      if waited:
        status = run.completion.status(run, job.cwd)
        if status.done:
          return Outcome(run.key, 0, status, time.monotonic() - start)
      exit_code, offset = _run(job, log, lock)
      seconds = time.monotonic() - start
      status = None
      if exit_code == 0:  # Under the lock: a command waiting for it must find the marker written.
        if isinstance(run.completion, completion.Marker):
          completion.write_marker(os.path.join(job.cwd, run.run_dir), run.command, seconds)
        status = run.completion.status(run, job.cwd)
    finally:
      os.close(lock)
  outcome = Outcome(run.key, exit_code, status, seconds)
  return outcome if outcome.ok else dataclasses.replace(outcome, tail=tail(job.log_path, offset))


def _run(job: Job, log, lock: int) -> tuple[int, int]:
  """Starts the run's binary with its output appended to `log` and the lock's descriptor inherited;
  returns its exit status and the log's offset where this attempt began."""
  run = job.run
  started = datetime.datetime.now().isoformat(timespec="seconds")
  log.write(f"=== {run.key} at {started}: {run.command}\n".encode())
  log.flush()
  offset = log.tell()
  try:
    process = subprocess.Popen([sys.executable, *run.args], cwd=job.cwd, stdout=log, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, pass_fds=(lock,))
    with _RUNNING_LOCK:
      _RUNNING.add(process)
    try:
      exit_code = process.wait()
    finally:
      with _RUNNING_LOCK:
        _RUNNING.discard(process)
  except OSError as error:  # The interpreter itself could not start.
    log.write(f"Cannot start the run: {error}\n".encode())
    exit_code = 127
  return exit_code, offset
