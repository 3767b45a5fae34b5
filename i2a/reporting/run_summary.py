"""Exports a finished (or running) training run's summary, so that its results survive the machine:
a few kilobytes under results/ that launch.report rebuilds every figure and table from, with no
logdir and no event files.

`export_run_summary(run_dir, out_dir)` writes `out_dir/<run name>/`:
  summary.json   the marker `run_reader.is_summary` looks for: format name and version, the run's
                 name and source path, its tags, the event files' wall time, and each evaluation file's
                 modification time (a copy or a git clone does not keep them, and they rank
                 evaluations of one key at equal frames);
  scalars.csv    every scalar tag the event files hold: tag, frames, value (float64, written so it
                 reads back exactly);
  config.json    the stored TrainConfig, copied byte for byte (absent if the run stored none);
  **/results.json  every launch.evaluate result below the logdir, at its relative path.
Checkpoints, flag files and logs are left behind. An export of the same run replaces the previous one
whole (written beside it first, then swapped in), so a study may export after each stage.

    path = run_summary.export_run_summary("runs/study_sokoban_small_i2a_s1", "results/sokoban_small/runs")
"""
import csv
import json
import os
import shutil
import tempfile

from i2a.reporting import run_reader


def _write_scalars(scalars: dict, path: str) -> None:
  with open(path, "w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(["tag", "frames", "value"])
    for tag in sorted(scalars):
      frames, values = scalars[tag]
      # repr() of a Python float is the shortest string that parses back to the same float64.
      writer.writerows([tag, int(x), repr(float(v))] for x, v in zip(frames, values))


def _check_target(run_dir: str, target: str) -> None:
  if os.path.realpath(target) == os.path.realpath(run_dir):
    raise run_reader.ReportError(f"--out: exporting {run_dir} into itself; choose another directory.")
  if os.path.exists(target) and not run_reader.is_summary(target):
    raise run_reader.ReportError(f"{target} exists and is not a run summary (no "
                                 f"{run_reader.SUMMARY_FILE}); remove it or choose another --out.")


def export_run_summary(run_dir: str, out_dir: str) -> str:
  """Writes the summary of the launch.train logdir `run_dir` into `out_dir/<run name>/`.

  Args:
    run_dir: the run's logdir (its event files directly inside it).
    out_dir: the directory that collects summaries, e.g. results/<study>/runs; created if missing.
  Returns:
    The summary directory written, `out_dir/<basename of run_dir>`.
  Raises:
    run_reader.ReportError: `run_dir` has no event files or an unreadable config or result, or the
      target exists and is not a summary (it is never overwritten then).
  """
  run_dir = os.path.normpath(run_dir)
  name = os.path.basename(os.path.abspath(run_dir))  # abspath: '.' or 'runs/x/..' still name the run.
  target = os.path.join(out_dir, name)
  if not os.path.isdir(run_dir):
    raise run_reader.ReportError(f"--export_run={run_dir}: no such directory; pass a launch.train logdir.")
  _check_target(run_dir, target)
  scalars, wall_seconds = run_reader.read_scalars(run_dir)  # Raises when there are no event files.
  config = run_reader.read_config(run_dir)  # Raises when it is unreadable: better now than at report time.
  run_reader.read_evaluations(run_dir)  # Likewise for the results files.
  os.makedirs(out_dir, exist_ok=True)
  staging = tempfile.mkdtemp(prefix=f".{name}.", dir=out_dir)
  try:
    _write_scalars(scalars, os.path.join(staging, run_reader.SCALARS_FILE))
    if config is not None:  # Copied as stored, under the name it was stored as.
      stored = next(n for n in run_reader.CONFIG_FILES if os.path.exists(os.path.join(run_dir, n)))
      shutil.copyfile(os.path.join(run_dir, stored), os.path.join(staging, stored))
    mtimes = {}
    for relative in run_reader.results_files(run_dir):
      source = os.path.join(run_dir, relative)
      os.makedirs(os.path.dirname(os.path.join(staging, relative)), exist_ok=True)
      shutil.copyfile(source, os.path.join(staging, relative))
      mtimes[relative] = os.path.getmtime(source)
    marker = dict(format=run_reader.SUMMARY_FORMAT, version=run_reader.SUMMARY_VERSION, run=name,
                  source=run_dir, wall_seconds=wall_seconds, tags=sorted(scalars), evaluations=mtimes)
    with open(os.path.join(staging, run_reader.SUMMARY_FILE), "w") as f:
      json.dump(marker, f, indent=2, sort_keys=True)
      f.write("\n")
    os.chmod(staging, 0o755)  # mkdtemp makes it private; a summary is meant to be shared.
    if os.path.exists(target):  # A summary (checked above): replaced whole, never merged.
      shutil.rmtree(target)
    os.rename(staging, target)
  except BaseException:
    shutil.rmtree(staging, ignore_errors=True)
    raise
  return target
