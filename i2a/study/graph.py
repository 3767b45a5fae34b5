"""A study as data: its runs, what each waits for, and the command each one is.

    study = graph.Study("toy", (
        graph.Run("toy/data", ("-m", "launch.train", "--flagfile=a.flags"), "runs/a", completion=...),
        graph.Run("toy/model", ("-m", "launch.train_env_model", ...), "runs/m", needs=("toy/data",), ...)))
    for run in study.order(): ...

A run is one subprocess of the Python interpreter (`args` are what follows `python`), so a study adds
no configuration of its own: the binaries read today's flag files, and a run only adds per-run
overrides (a seed, a logdir). Keys are stable names such as 'sokoban_small/i2a_s3', so a rerun of the
study finds the same runs, and logs and markers land in the same run directories.
"""
import dataclasses
import os
import shlex
from typing import Any, Optional, Protocol

LOG_FILE = "study.log"  # In the run directory; each attempt appends to it under a header line.


def summaries_dir(results_dir: str, study_name: str) -> str:
  """Where a study's run summaries are exported: '<results_dir>/<study_name>/runs'."""
  return os.path.join(results_dir, study_name, "runs")


class Completion(Protocol):
  """How a run tells whether it is done (completion.py's classes)."""

  def status(self, run: "Run", root: str) -> Any:
    """The run's completion.Status, read from what its binary left (paths relative to `root`)."""

  def from_summary(self, run: "Run", summary: str) -> Any:
    """The run's completion.Status as its exported summary `summary` (a directory) tells it: done only
    if the summary shows the run finished (state.py reads it when `run_dir` is gone)."""


@dataclasses.dataclass(frozen=True)
class Work:
  """How much machine time a run takes, from a measured speed (estimates.py turns it into hours).

  Attributes:
    frames: environment frames the run trains or plays (with `frames_per_sec`).
    frames_per_sec: the measured speed of this kind of run, alone on the machine.
    seconds: the measured wall time of the whole run, for runs not counted in frames.
  """
  frames: int = 0
  frames_per_sec: float = 0.0
  seconds: float = 0.0

  def __post_init__(self):
    if (self.frames > 0) != (self.frames_per_sec > 0):
      raise ValueError(f"Work: give frames and frames_per_sec together, got {self}.")

  @property
  def hours(self) -> float:
    """The whole run's machine-hours."""
    return (self.frames / self.frames_per_sec if self.frames else self.seconds) / 3600.0


@dataclasses.dataclass(frozen=True)
class Run:
  """One run of a study: a subprocess, what it waits for, and how to tell that it is done.

  Attributes:
    key: the run's stable name, '<study>/<name>'.
    args: the interpreter's arguments, e.g. ('-m', 'launch.train', '--flagfile=...', '--seed=2').
    run_dir: where the run writes (its logdir or output directory); the study's log goes here.
    completion: how to tell that the run is done, from what its binary leaves (completion.py).
    needs: keys of the runs that must be done before this one starts.
    work: the run's machine time, for estimates.
    summary_dir: a run directory to export to the study's results after this run finishes (a training
      logdir; for an evaluation, the agent's logdir it writes into), or None.
    summaries_dir: where that export goes, '<results_dir>/<study>/runs' of the study that declares the
      run (None: the running study's). The export is also how a study that lost `run_dir` with a
      machine finds the run done (state.py).
    cpus: CPUs the run keeps busy (what a Ray task asks for).
    stage: the study's stage the run belongs to (`Study.stages`); of the runs ready to start, those of
      the lowest stage start first, so a study runs its parts in the order it declares.
  """
  key: str
  args: tuple[str, ...]
  run_dir: str
  completion: Completion
  needs: tuple[str, ...] = ()
  work: Work = Work()
  summary_dir: Optional[str] = None
  summaries_dir: Optional[str] = None
  cpus: int = 1
  stage: int = 0

  @property
  def name(self) -> str:
    """The key without its study: 'i2a_s3'."""
    return self.key.split("/", 1)[-1]

  @property
  def summary_path(self) -> Optional[str]:
    """The run's exported summary, '<summaries_dir>/<name of summary_dir>', or None without both."""
    if self.summary_dir is None or self.summaries_dir is None:
      return None
    return os.path.join(self.summaries_dir, os.path.basename(os.path.normpath(self.summary_dir)))

  @property
  def command(self) -> str:
    """The command line as a user would type it (the interpreter as `python`)."""
    return shlex.join(("python", *self.args))


class StudyError(ValueError):
  """A study declaration that cannot run: a repeated key, an unknown or circular dependency."""


@dataclasses.dataclass(frozen=True)
class Study:
  """A named graph of runs.

  Attributes:
    name: the study's name, e.g. 'sokoban_small'; keys start with '<name>/'.
    runs: every run, in the order the plan lists them.
    report_dir: where the study's results go, relative to the results directory (its run summaries go
      to '<report_dir>/runs').
    stages: the names of the study's stages, indexed by `Run.stage` (empty: one stage).
  """
  name: str
  runs: tuple[Run, ...]
  report_dir: str = ""
  stages: tuple[str, ...] = ()

  def __post_init__(self):
    keys = [run.key for run in self.runs]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
      raise StudyError(f"Study {self.name}: runs declared twice: {repeated}.")
    for run in self.runs:
      if run.stage and run.stage >= len(self.stages):
        raise StudyError(f"Study {self.name}: {run.key} is in stage {run.stage}, which is not declared.")
      unknown = [n for n in run.needs if n not in keys]
      if unknown:
        raise StudyError(f"Study {self.name}: {run.key} waits for runs that are not declared: {unknown}.")
    self.order()  # Raises on a cycle.

  def __getitem__(self, key: str) -> Run:
    return next(run for run in self.runs if run.key == key)

  @property
  def keys(self) -> tuple[str, ...]:
    return tuple(run.key for run in self.runs)

  def is_own(self, key: str) -> bool:
    """Whether run `key` is this study's own, not a run of another study that it waits for."""
    return key.startswith(f"{self.name}/")

  def order(self) -> list[Run]:
    """Every run after the runs it needs, otherwise by stage, then in declaration order."""
    placed, ordered = set(), []
    while len(ordered) < len(self.runs):
      # Lowest stage first (a stable sort: declaration order within a stage), as the runners start them.
      ready = sorted((r for r in self.runs if r.key not in placed and set(r.needs) <= placed),
                     key=lambda r: r.stage)
      if not ready:
        stuck = sorted(r.key for r in self.runs if r.key not in placed)
        raise StudyError(f"Study {self.name}: these runs wait for each other in a circle: {stuck}.")
      ordered.append(ready[0])
      placed.add(ready[0].key)
    return ordered

  def dependants(self, key: str) -> list[str]:
    """Every run that waits for `key`, directly or through other runs, in declaration order."""
    found = {key}
    for run in self.order():
      if found & set(run.needs):
        found.add(run.key)
    return [k for k in self.keys if k in found and k != key]
