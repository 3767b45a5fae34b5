"""Reads one run's stored files for launch.report, from either of the two places a run lives: its
launch.train logdir or the summary `run_summary.export_run_summary` wrote of it under results/.

A logdir holds `events.out.tfevents.*` (the scalars of `summaries.write_scalars`, the step being the
frame count), optionally `config.json` (the run's TrainConfig) and any number of `**/results.json`
written by launch.evaluate. A summary holds the same config and results files, its scalars as
`scalars.csv` (tag, frames, value) and the marker `summary.json` (format name and version, the event
files' wall time, each evaluation file's original modification time); the marker alone tells the two
apart, so a logdir that happens to contain a CSV is never mistaken for a summary.

    scalars, wall_seconds = run_reader.read_run_scalars("results/sokoban_small/runs/i2a_s1")
"""
import csv
import glob
import json
import os
from typing import Optional

from absl import logging
import numpy as np
import tensorflow as tf

CONFIG_FILES = ("config.json", "run_config.json")  # The TrainConfig a run stored (newest name first).
EVENTS_GLOB = "events.out.tfevents.*"
RESULTS_FILE = "results.json"
SUMMARY_FILE = "summary.json"
SCALARS_FILE = "scalars.csv"
SUMMARY_FORMAT = "i2a run summary"
SUMMARY_VERSION = 1  # Raise when the layout changes; readers refuse versions newer than theirs.


class ReportError(ValueError):
  """A user mistake in the runs to report (no such directory, no event files, no curve)."""


def _events(path: str):
  try:
    for record in tf.data.TFRecordDataset(path):
      yield tf.compat.v1.Event.FromString(record.numpy())
  except tf.errors.DataLossError:  # A run killed mid-write leaves a truncated last record.
    logging.warning("%s ends in a truncated record; reading the records before it.", path)


def _scalar(value) -> Optional[float]:
  if value.WhichOneof("value") == "simple_value":
    return float(value.simple_value)
  if value.WhichOneof("value") == "tensor":
    array = tf.make_ndarray(value.tensor)
    if array.size == 1 and np.issubdtype(array.dtype, np.number):
      return float(array.reshape(()))
  return None


def has_events(path: str) -> bool:
  """Whether `path` directly holds TensorBoard event files."""
  return bool(glob.glob(os.path.join(glob.escape(path), EVENTS_GLOB)))


def is_summary(path: str) -> bool:
  """Whether `path` is an exported run summary (holds the marker file `summary.json`)."""
  return os.path.isfile(os.path.join(path, SUMMARY_FILE))


def read_scalars(logdir: str) -> tuple[dict, float]:
  """The scalars of every event file in `logdir` (not its subdirectories), and their wall time.

  Where a resumed run logs a frame count at or below one already logged (it restarted from an older
  checkpoint), its new points replace the old ones from there on, as TensorBoard shows them.

  Returns:
    (tag -> (frames [N] int64, values [N] float64), seconds between the first and last event of each
    event file, summed).
  Raises:
    ReportError: `logdir` holds no event files.
  """
  files = sorted(glob.glob(os.path.join(glob.escape(logdir), EVENTS_GLOB)))
  if not files:
    raise ReportError(f"{logdir} has neither TensorBoard event files ({EVENTS_GLOB}) nor a run summary "
                      f"({SUMMARY_FILE}); pass launch.train logdirs or exported summaries to --runs.")
  points, wall_seconds = {}, 0.0
  for file in files:
    times = []
    for event in _events(file):
      times.append(event.wall_time)
      for value in event.summary.value:
        number = _scalar(value)
        if number is not None:
          points.setdefault(value.tag, []).append((event.wall_time, event.step, number))
    wall_seconds += max(times) - min(times) if times else 0.0
  scalars = {}
  for tag, tagged in points.items():
    kept = []
    for _, step, number in sorted(tagged, key=lambda p: p[0]):  # Stable: write order within a second.
      while kept and kept[-1][0] >= step:
        kept.pop()
      kept.append((step, number))
    scalars[tag] = (np.array([s for s, _ in kept], np.int64), np.array([v for _, v in kept], np.float64))
  return scalars, wall_seconds


def _read_json(path: str, what: str):
  """The JSON at `path`; a ReportError naming `what` and the file if it cannot be read."""
  try:
    with open(path) as f:
      return json.load(f)
  except (OSError, ValueError) as error:
    raise ReportError(f"Cannot read {what} {path}: {error}") from error


def read_summary(path: str) -> dict:
  """The marker of an exported summary: format, version, run, source, wall_seconds, evaluations.

  Raises:
    ReportError: the marker is unreadable, of another format, or of a newer version than this reader.
  """
  marker = os.path.join(path, SUMMARY_FILE)
  summary = _read_json(marker, "the run summary marker")
  if not isinstance(summary, dict) or summary.get("format") != SUMMARY_FORMAT:
    raise ReportError(f"{marker} is not an i2a run summary (no \"format\": {SUMMARY_FORMAT!r}); remove it "
                      "or re-export the run with launch.report --export_run.")
  if not isinstance(summary.get("version"), int) or summary["version"] > SUMMARY_VERSION:
    raise ReportError(f"{marker} has summary version {summary.get('version')!r}, this reader knows up to "
                      f"{SUMMARY_VERSION}; update the repository.")
  return summary


def read_summary_scalars(path: str) -> dict:
  """The scalars of an exported summary's `scalars.csv`, as `read_scalars` gives them (frames sorted)."""
  points = {}
  csv_path = os.path.join(path, SCALARS_FILE)
  try:
    with open(csv_path, newline="") as f:
      for row in csv.DictReader(f):
        points.setdefault(row["tag"], []).append((int(row["frames"]), float(row["value"])))
  except (OSError, KeyError, ValueError) as error:
    raise ReportError(f"Cannot read the summary scalars {csv_path}: {error}; re-export the run.") from error
  return {tag: (np.array([s for s, _ in sorted(p)], np.int64), np.array([v for _, v in sorted(p)], np.float64))
          for tag, p in points.items()}


def read_run_scalars(path: str) -> tuple[dict, float]:
  """`read_scalars` of a logdir, or the same from an exported summary (scalars.csv and its marker)."""
  if is_summary(path):
    summary = read_summary(path)
    return read_summary_scalars(path), float(summary.get("wall_seconds", 0.0))
  return read_scalars(path)


def read_config(logdir: str) -> Optional[dict]:
  """The run's stored TrainConfig as a dict, or None if it stored none."""
  for name in CONFIG_FILES:
    path = os.path.join(logdir, name)
    if os.path.exists(path):
      try:
        with open(path) as f:
          return json.load(f)
      except (OSError, ValueError) as error:
        raise ReportError(f"Cannot read the run config {path}: {error}") from error
  return None


def results_files(logdir: str) -> list[str]:
  """Every launch.evaluate `results.json` below `logdir`, relative to it with '/' separators, sorted."""
  found = glob.glob(os.path.join(glob.escape(logdir), "**", RESULTS_FILE), recursive=True)
  return sorted(os.path.relpath(path, logdir).replace(os.sep, "/") for path in found)


def read_evaluations(logdir: str) -> tuple[dict, dict]:
  """The launch.evaluate results under `logdir` (any `**/results.json`).

  Returns:
    (values, counts). values: '<mode>, <what>' -> value, with mode 'greedy', 'sampled' or 'outer
    search' and, for Sokoban, what = '<n> boxes' (or the level files' name) and value the fraction
    solved; for MiniPacman, what = the task and value the mean return. counts: the same keys, where
    the file says so, -> (levels solved, levels played) as ints. Where several files give one key, the
    one evaluated at the most frames (then the newest file) wins; a summary's files are ranked by the
    modification times its marker recorded, since a copy or a clone does not keep them.
  """
  mtimes = read_summary(logdir).get("evaluations", {}) if is_summary(logdir) else {}
  found = {}
  for relative in results_files(logdir):
    path = os.path.join(logdir, relative)
    rows = _read_json(path, "the evaluation results")
    for row in rows if isinstance(rows, list) else []:
      mode = ("outer search" if "mean_model_steps" in row else
              "greedy" if row.get("greedy") else "sampled")
      if "fraction_solved" in row:
        levels = row.get("levels", "generated")
        what = f"{row['box_count']} boxes" if levels == "generated" else os.path.basename(str(levels))
        key, value = f"{mode}, {what}", row["fraction_solved"]
      elif "mean_return" in row:
        key, value = f"{mode}, {row['task']}", row["mean_return"]
      else:
        continue
      played, solved = row.get("episodes"), row.get("solved")
      count = (solved, played) if isinstance(played, int) and isinstance(solved, int) and played > 0 else None
      rank = (row.get("num_frames") or 0, mtimes.get(relative, os.path.getmtime(path)))
      if key not in found or rank > found[key][0]:
        found[key] = (rank, float(value), count)
  keys = sorted(found)
  return ({key: found[key][1] for key in keys},
          {key: found[key][2] for key in keys if found[key][2] is not None})
