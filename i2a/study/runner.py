"""Runs a study: the runs not yet done, each after the runs it waits for, `jobs` side by side.

    tracker = runner.Tracker(study, cwd=os.getcwd(), results_dir="results")
    exit_code = runner.run_local(tracker, jobs=2)        # Or ray_runner.run_ray(tracker, ...).

The `Tracker` is what both backends share: the statuses read when the study starts (done runs are not
run again), a progress line when a run starts, finishes or fails, with the study's machine-hours
left, the run summary exported to `<results_dir>/<study report_dir>/runs` after each run, and the
runs that are skipped because a run they wait for failed. Runs that do not wait for a failed run go on.

Ctrl-C reaches the runs too (one process group): they save a checkpoint and stop, and the next
`launch.study` resumes them.
"""
import concurrent.futures
import datetime
import os
from typing import Callable, Optional

from i2a.study import completion
from i2a.study import estimates
from i2a.study import execute
from i2a.study import graph
from i2a.study import state

Exporter = Callable[[str, str], str]  # (run_dir, out_dir) -> the directory written.
INTERRUPTED = 130  # The shell's exit status for a program stopped by Ctrl-C.


def export_run_summary(run_dir: str, out_dir: str) -> str:
  """i2a.reporting.run_summary's exporter, imported when the first run finishes."""
  from i2a.reporting import run_summary  # pylint: disable=g-import-not-at-top
  return run_summary.export_run_summary(run_dir, out_dir)


def _clock(seconds: float) -> str:
  return str(datetime.timedelta(seconds=round(seconds)))


class Tracker:
  """A study's progress during one `launch.study`: what is left, and a line for every event.

  Args:
    study: the study.
    cwd: the directory the commands run in; the study's relative paths are relative to it.
    results_dir: run summaries go to `<results_dir>/<study.report_dir>/runs`.
    exporter: writes one run's summary; default `export_run_summary`.
    print_line: where progress lines go (default: stdout, flushed).
    statuses: the runs' statuses, if already read (e.g. for the plan); default: read them now.
  """

  def __init__(self, study: graph.Study, cwd: str, results_dir: str, exporter: Optional[Exporter] = None,
               print_line: Callable[[str], None] = lambda line: print(line, flush=True),
               statuses: Optional[dict] = None):
    self.study, self.cwd = study, cwd
    self.summaries_dir = graph.summaries_dir(results_dir, study.report_dir)
    self.exporter = exporter or export_run_summary
    self.print_line = print_line
    self.statuses = statuses or state.read_statuses(study, cwd)
    self.to_run = [run.key for run in study.order() if not self.statuses[run.key].done]
    self.left = {key: estimates.hours_left(study[key], self.statuses[key]) for key in self.to_run}
    self.finished, self.failed, self.skipped = [], [], []

  def line(self, text: str) -> None:
    now = datetime.datetime.now().strftime("%H:%M:%S")
    self.print_line(f"[{now}] {text}")

  def _hours(self) -> str:
    return f"{estimates.format_hours(sum(self.left.values()))} left"

  def begin(self) -> None:
    done = len(self.study.runs) - len(self.to_run)
    self.line(f"Study {self.study.name}: {len(self.study.runs)} runs, {done} already done, "
              f"{len(self.to_run)} to run; {self._hours()}.")
    for note in state.notes(self.study, self.statuses):
      self.line(note)

  def started(self, key: str) -> None:
    log = os.path.join(self.study[key].run_dir, graph.LOG_FILE)
    self.line(f"start   {key} (log {log}); {self._hours()}")

  def ended(self, outcome: execute.Outcome) -> bool:
    """Reports a run's end (exports its summary if it finished); True if the runs after it may start."""
    key = outcome.key
    self.left.pop(key, None)
    if outcome.skipped_because:
      self.skipped.append(key)
      self.line(f"skip    {key}: waits for {outcome.skipped_because}, which did not finish")
      return False
    if outcome.ok:
      self.finished.append(key)
      self.line(f"done    {key} in {_clock(outcome.seconds)}; {self._hours()}")
      self._export(self.study[key])
      return True
    self.failed.append(key)
    for dependant in self.study.dependants(key):  # They will not run: out of the hours left already.
      self.left.pop(dependant, None)
    if outcome.exit_code == 0:  # Stopped early by a signal: exits 0 with a checkpoint to resume from.
      why = f"exited 0 but is not done ({outcome.status.state}: {outcome.status.detail}); rerun to resume"
    elif outcome.exit_code is None:
      why = "did not run"
    else:
      why = f"exit status {outcome.exit_code}"
    log = os.path.join(self.study[key].run_dir, graph.LOG_FILE)
    self.line(f"FAILED  {key} after {_clock(outcome.seconds)}: {why}; {self._hours()}; last lines of {log}:")
    for text in outcome.tail:
      self.print_line(f"    | {text}")
    return False

  def _export(self, run: graph.Run) -> None:
    if run.summary_dir is None:
      return
    try:
      out = run.summaries_dir or self.summaries_dir  # The declaring study's, for a run another one borrows.
      written = self.exporter(os.path.join(self.cwd, run.summary_dir), os.path.join(self.cwd, out))
    except Exception as error:  # pylint: disable=broad-except  # The run is done all the same.
      self.line(f"note    {run.key}: its summary was not exported ({type(error).__name__}: {error})")
      return
    self.line(f"summary {run.key} -> {os.path.relpath(written, self.cwd)}")

  def end(self) -> int:
    """The closing line; the exit status of the study command (1 if a run failed or was skipped)."""
    self.line(f"Study {self.study.name}: {len(self.finished)} finished, {len(self.failed)} failed"
              f"{' (' + ', '.join(self.failed) + ')' if self.failed else ''}, {len(self.skipped)} skipped; "
              f"{estimates.format_hours(estimates.total_hours_left(self.study, self._final_statuses()))} "
              "left in all.")
    return 1 if self.failed or self.skipped else 0

  def _final_statuses(self) -> dict:
    return {key: (completion.Status(completion.DONE) if key in self.finished else status)
            for key, status in self.statuses.items()}


def critical_hours(study: graph.Study, left: dict[str, float]) -> dict[str, float]:
  """For each run, its hours left plus the longest chain of hours left of the runs waiting for it: the
  local runner starts the ready run with the longest chain first, so the study ends soonest."""
  chain = {}
  for run in reversed(study.order()):
    after = [chain[r.key] for r in study.runs if run.key in r.needs]
    chain[run.key] = left.get(run.key, 0.0) + max(after, default=0.0)
  return chain


def start_order(study: graph.Study, left: dict[str, float]) -> dict[str, tuple[int, float]]:
  """For each run, the key the local runner sorts ready runs by: first its stage (the lowest stage of
  the run and of every run waiting for it, so that an early stage's upstream runs are early too), then
  the longest chain of hours first (`critical_hours`)."""
  chain = critical_hours(study, left)
  stage = {}
  for run in reversed(study.order()):
    after = [stage[r.key] for r in study.runs if run.key in r.needs]
    stage[run.key] = min([run.stage, *after])
  return {key: (stage[key], -chain[key]) for key in study.keys}


def run_local(tracker: Tracker, jobs: int) -> int:
  """Runs the study's remaining runs as subprocesses, at most `jobs` at a time; returns the exit status."""
  study = tracker.study
  priority = start_order(study, tracker.left)
  waiting = list(tracker.to_run)
  may_follow = {key for key in study.keys if key not in waiting}  # Done before the study started.
  running = {}
  tracker.begin()
  with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
    try:
      while waiting or running:
        ready = sorted((k for k in waiting if set(study[k].needs) <= may_follow), key=lambda k: priority[k])
        for key in ready[:jobs - len(running)]:
          waiting.remove(key)
          tracker.started(key)
          running[pool.submit(execute.execute, execute.Job(study[key], tracker.cwd))] = key
        if not running:
          break
        ended, _ = concurrent.futures.wait(running, return_when=concurrent.futures.FIRST_COMPLETED)
        for future in ended:
          key = running.pop(future)
          if tracker.ended(future.result()):
            may_follow.add(key)
            continue
          for dependant in study.dependants(key):
            if dependant in waiting:
              waiting.remove(dependant)
              tracker.ended(execute.Outcome(dependant, None, skipped_because=key))
    except KeyboardInterrupt:  # The runs got the Ctrl-C too; leaving `with` waits while they checkpoint.
      tracker.line(f"Interrupted: waiting for {', '.join(running.values()) or 'no run'} to save and stop; "
                   "the same command resumes the study.")
      return INTERRUPTED
  return tracker.end()
