"""Whether a run is done, read from what its binary leaves behind.

A zero exit status is not enough: launch.train and launch.train_env_model also exit 0 when SIGTERM
stops them early (they save a checkpoint so that a rerun resumes). So each binary's own marks decide:
- launch.train: the frame count in the newest readable checkpoint has reached the run's total
  (`CheckpointFrames`); the same logdir may be asked for twice, as the study's data agent at 1M
  frames and then as the baseline continued to 2M;
- launch.collect: the data manifest counts the steps asked for (`DataManifest`);
- launch.train_env_model: eval_metrics.json names the exported model, which only a run that made
  every update exports (a run stopped early writes the file with no export) (`ExportedModel`);
- launch.evaluate: results.json, of the agent's final checkpoint (`EvalResults`);
- anything else (launch.report): the runner's own study_done.json, written after a zero exit with the
  command it ran (`Marker`).
Partial runs say how far they got, for the estimate of the time left. Paths are read relative to
`root`, the directory the study's commands run in (a Ray worker runs elsewhere).
"""
import dataclasses
import json
import os
import re

from i2a.study import graph

DONE, PARTIAL, PENDING = "done", "partial", "pending"
MARKER_FILE = "study_done.json"
RESULTS_FILE = "results.json"  # launch.evaluate's, in its --output_dir.


@dataclasses.dataclass(frozen=True)
class Status:
  """A run's state.

  Attributes:
    state: DONE, PARTIAL (started, will resume) or PENDING (nothing to resume from).
    fraction: the fraction of the run's work done.
    detail: what was read, e.g. '1,200,000/2,000,000 frames'.
    exported: done as read from the run's exported summary in results/, not from its own directory
      (state.py), so a run that reads its files cannot follow it.
  """
  state: str
  fraction: float = 0.0
  detail: str = ""
  exported: bool = False

  @property
  def done(self) -> bool:
    return self.state == DONE


class NoSummary:
  """For a completion whose run exports no summary: `from_summary` (graph.Completion) is never done."""

  def from_summary(self, run: graph.Run, summary: str) -> Status:
    del run, summary
    return Status(PENDING)


def _progress(count: int, total: int, unit: str) -> Status:
  detail = f"{count:,}/{total:,} {unit}"
  if count >= total:
    return Status(DONE, 1.0, detail)
  return Status(PARTIAL, count / total, detail) if count > 0 else Status(PENDING)


def _read_json(path: str):
  try:
    with open(path) as f:
      return json.load(f)
  except (OSError, ValueError):
    return None


def _checkpoint_steps(directory: str) -> list[int]:
  """The steps of `ckpt-<step>.index` files in `directory`, newest first (checkpointing.py's names)."""
  names = os.listdir(directory) if os.path.isdir(directory) else []
  return sorted((int(m.group(1)) for m in map(re.compile(r"ckpt-(\d+)\.index").fullmatch, names) if m),
                reverse=True)


@dataclasses.dataclass(frozen=True)
class CheckpointFrames:
  """A launch.train run: done when its newest readable checkpoint holds `total_frames` frames.

  Attributes:
    logdir: the run's --logdir.
    total_frames: the frames this run of the study trains to.
    from_frames: the frames the run continues from (another run of the study trained them), so that
      its progress counts only its own part.
  """
  logdir: str
  total_frames: int
  from_frames: int = 0

  def frames(self, root: str) -> int:
    """The learner's frame count in the newest readable checkpoint (0 without one)."""
    import tensorflow as tf  # pylint: disable=g-import-not-at-top  # Only where a training run is read.
    directory = os.path.join(root, self.logdir, "checkpoints")
    for step in _checkpoint_steps(directory):
      try:  # The learner's `num_frames` variable (learner.trackables()), not a count inferred from `step`.
        return int(tf.train.load_variable(os.path.join(directory, f"ckpt-{step}"),
                                          "num_frames/.ATTRIBUTES/VARIABLE_VALUE"))
      except (ValueError, tf.errors.OpError):  # Unreadable: the run itself falls back to an older one too.
        continue
    return 0

  def status(self, run: graph.Run, root: str) -> Status:
    del run
    frames = self.frames(root)
    status = _progress(frames, self.total_frames, "frames")
    if self.from_frames and not status.done:
      own = max(frames - self.from_frames, 0) / (self.total_frames - self.from_frames)
      status = dataclasses.replace(status, fraction=own)
    return status

  def from_summary(self, run: graph.Run, summary: str) -> Status:
    """Done if the run's exported summary (a directory) logged `total_frames` frames; else pending."""
    del run
    from i2a.reporting import run_reader  # pylint: disable=g-import-not-at-top  # It imports TensorFlow.
    if not run_reader.is_summary(summary):
      return Status(PENDING)
    try:
      scalars = run_reader.read_summary_scalars(summary)
    except run_reader.ReportError:
      return Status(PENDING)
    frames = max((int(steps[-1]) for steps, _ in scalars.values() if len(steps)), default=0)
    done = frames >= self.total_frames
    return Status(DONE, 1.0, f"{frames:,} frames, exported", exported=True) if done else Status(PENDING)


@dataclasses.dataclass(frozen=True)
class DataManifest(NoSummary):
  """A launch.collect run: done when the manifest of --out counts `num_transitions` steps.

  Attributes:
    out: the collection's --out directory.
    num_transitions: the collection's --num_transitions.
  """
  out: str
  num_transitions: int

  def status(self, run: graph.Run, root: str) -> Status:
    del run
    manifest = _read_json(os.path.join(root, self.out, "manifest.json")) or {}
    return _progress(int(manifest.get("num_steps", 0)), self.num_transitions, "steps")


@dataclasses.dataclass(frozen=True)
class ExportedModel(NoSummary):
  """A launch.train_env_model run: done when eval_metrics.json names the exported model.

  Attributes:
    logdir: the model's --logdir.
    steps: the run's --steps, for the progress of a partial run (from its checkpoints' steps).
  """
  logdir: str
  steps: int

  def status(self, run: graph.Run, root: str) -> Status:
    del run
    metrics = _read_json(os.path.join(root, self.logdir, "eval_metrics.json")) or {}
    if metrics.get("export") and metrics.get("step", 0) >= self.steps:
      return Status(DONE, 1.0, f"{self.steps:,}/{self.steps:,} updates, exported")
    steps = _checkpoint_steps(os.path.join(root, self.logdir, "checkpoints"))
    return _progress(min(steps[0] if steps else 0, self.steps - 1), self.steps, "updates")


@dataclasses.dataclass(frozen=True)
class EvalResults:
  """A launch.evaluate run: done when results.json in --output_dir is of a checkpoint with the agent's
  final frame count (an evaluation of an earlier checkpoint is redone).

  Attributes:
    output_dir: the evaluation's --output_dir.
    num_frames: the agent's total frames.
  """
  output_dir: str
  num_frames: int

  def status(self, run: graph.Run, root: str) -> Status:
    del run
    return self._of(_read_json(os.path.join(root, self.output_dir, RESULTS_FILE)))

  def from_summary(self, run: graph.Run, summary: str) -> Status:
    """Done if the exported summary of `run.summary_dir` holds this evaluation of the final checkpoint."""
    inside = os.path.relpath(self.output_dir, run.summary_dir)
    status = self._of(_read_json(os.path.join(summary, inside, RESULTS_FILE)))
    return dataclasses.replace(status, detail=f"{status.detail}, exported", exported=True) if status.done \
        else Status(PENDING)

  def _of(self, rows) -> Status:
    if not rows:
      return Status(PENDING)
    frames = min(int(row.get("num_frames", 0)) for row in rows)
    if frames >= self.num_frames:
      return Status(DONE, 1.0, f"of the checkpoint at {frames:,} frames")
    return Status(PENDING, 0.0, f"redo: of the checkpoint at {frames:,} frames")


@dataclasses.dataclass(frozen=True)
class Marker(NoSummary):
  """A run whose binary leaves no mark of completion: done when the runner's study_done.json in the run
  directory records this very command. Also redone when a run it waits for is not done
  (`after_upstream`), as its output is then out of date.

  Attributes:
    after_upstream: the run's output is derived from its upstream runs' (True for a report).
  """
  after_upstream: bool = True

  def status(self, run: graph.Run, root: str) -> Status:
    marker = _read_json(os.path.join(root, run.run_dir, MARKER_FILE)) or {}
    if marker.get("command") == run.command:
      return Status(DONE, 1.0, "study_done.json")
    return Status(PENDING, 0.0, "redo: study_done.json of another command" if marker else "")


def write_marker(run_dir: str, command: str, seconds: float) -> None:
  """What `Marker` reads: written by the runner after a zero exit."""
  os.makedirs(run_dir, exist_ok=True)
  with open(os.path.join(run_dir, MARKER_FILE), "w") as f:
    json.dump(dict(command=command, seconds=round(seconds, 1)), f, indent=1)
