"""Reads finished or running training runs for launch.report: their TensorBoard scalars, stored config
and evaluation results, and names the agent each run belongs to.

A run is a launch.train logdir: `events.out.tfevents.*` (the scalars of `summaries.write_scalars`, the
step being the frame count), optionally `config.json` (the run's TrainConfig) and any number of
`**/results.json` written by launch.evaluate. Runs of one agent that differ only in their seed are
grouped (paper Fig. 4 and App. B draw one line per agent over several seeds).

    runs = reporting.load_runs(["runs/sokoban_*"], labels=[("i2a", "runs/*i2a*")])
"""
import dataclasses
import fnmatch
import glob
import json
import os
import re
from typing import Optional, Sequence

from absl import logging
import numpy as np
import tensorflow as tf

CONFIG_FILES = ("config.json", "run_config.json")  # The TrainConfig a run stored (newest name first).
EVENTS_GLOB = "events.out.tfevents.*"
_SEED_SUFFIX = re.compile(r"^(.+?)[_-](?:s|seed)(\d+)$")


class ReportError(ValueError):
  """A user mistake in the runs to report (no such directory, no event files, no curve)."""


@dataclasses.dataclass
class Run:
  """One training run.

  Attributes:
    path: its logdir.
    agent: the agent label it is grouped under.
    panel: what its curve is comparable with (game, task, room), '' when no config is stored.
    seed: the run's seed (from the config, else from the directory name), None if unknown.
    scalars: tag -> (frames [N] int64, values [N] float64), frames strictly increasing.
    wall_seconds: time spent writing its event files, summed over resumed segments.
    evaluations: '<mode>, <levels or task>' -> solve rate or mean return (see `read_evaluations`).
    config: the stored TrainConfig as a dict, None if none.
  """
  path: str
  agent: str
  panel: str
  seed: Optional[int]
  scalars: dict
  wall_seconds: float
  evaluations: dict
  config: Optional[dict] = None

  @property
  def name(self) -> str:
    return os.path.basename(os.path.normpath(self.path))


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
    raise ReportError(f"{logdir} has no TensorBoard event files ({EVENTS_GLOB}); pass launch.train "
                      "logdirs to --runs.")
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


def read_evaluations(logdir: str) -> dict:
  """The launch.evaluate results under `logdir` (any `**/results.json`).

  Returns:
    '<mode>, <what>' -> value, with mode 'greedy', 'sampled' or 'outer search' and, for Sokoban,
    what = '<n> boxes' (or the level files' name) and value the fraction solved; for MiniPacman,
    what = the task and value the mean return. Where several files give one key, the one evaluated
    at the most frames (then the newest file) wins.
  """
  found = {}
  for path in glob.glob(os.path.join(glob.escape(logdir), "**", "results.json"), recursive=True):
    try:
      with open(path) as f:
        rows = json.load(f)
    except (OSError, ValueError) as error:
      raise ReportError(f"Cannot read the evaluation results {path}: {error}") from error
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
      rank = (row.get("num_frames") or 0, os.path.getmtime(path))
      if key not in found or rank > found[key][0]:
        found[key] = (rank, float(value))
  return {key: found[key][1] for key in sorted(found)}


def config_label(config: dict) -> tuple[str, str]:
  """(agent, panel) from a stored TrainConfig: the variant and the options that tell its ablations
  apart (paper Sec. 4.2-4.3: rollout depth, reward prediction, rollout policy, environment model),
  and the game with its task or room size and box count."""
  agent, env = config.get("agent", {}), config.get("env", {})
  variant = agent.get("variant", "?")
  parts = [variant]
  imag_path = agent.get("imag_path")
  imagines = (imag_path or ("none" if variant in ("standard", "large") else "imag")) == "imag"
  if imag_path and imag_path != ("none" if variant in ("standard", "large") else "imag"):
    parts.append(f"imag_path={imag_path}")
  if imagines:
    own_model = {"i2a": "learned"}.get(variant, "copy")
    if agent.get("env_model") and agent["env_model"] != own_model:
      parts.append(f"{agent['env_model']} model")
    parts.append(f"depth{agent.get('rollout_depth', 5)}")
    if agent.get("rollout_policy", "distilled") != "distilled":
      parts.append(f"{agent['rollout_policy']} rollouts")
    if agent.get("predict_reward") is False:
      parts.append("no reward")
  if agent.get("stack_size", 1) != 1:
    parts.append(f"stack{agent['stack_size']}")
  game = env.get("game", agent.get("game", ""))
  if game == "sokoban":
    room, boxes = env.get("room_size"), env.get("num_boxes")
    panel = f"sokoban {room}x{room}, {boxes} box{'es' if boxes != 1 else ''}"
  else:
    panel = f"{game} {env.get('task', agent.get('task', ''))}".strip()
  return " ".join(parts), panel


def name_label(name: str) -> tuple[str, Optional[int]]:
  """(agent, seed) from a directory name: 'i2a_s3' and 'i2a-seed3' -> ('i2a', 3); 'i2a' -> ('i2a', None)."""
  match = _SEED_SUFFIX.match(name)
  return (match.group(1), int(match.group(2))) if match else (name, None)


def expand_runs(patterns: Sequence[str]) -> list[str]:
  """The directories named by `patterns` (paths or globs), in order, without duplicates.

  A glob's directories without event files are skipped (a glob of runs/ may catch other outputs);
  an explicitly named directory must have them.

  Raises:
    ReportError: a pattern matches no directory, an explicit one has no event files, or no run is left.
  """
  paths = []
  for pattern in patterns:
    matches = sorted(p for p in glob.glob(pattern) if os.path.isdir(p))
    if not matches:
      raise ReportError(f"--runs: {pattern!r} matches no directory.")
    is_glob = glob.has_magic(pattern)
    for path in matches:
      if not glob.glob(os.path.join(glob.escape(path), EVENTS_GLOB)):
        if not is_glob:
          read_scalars(path)  # Raises, naming the directory.
        logging.warning("Skipping %s: no event files.", path)
      elif os.path.normpath(path) not in paths:
        paths.append(os.path.normpath(path))
  if not paths:
    raise ReportError(f"--runs={','.join(patterns)}: none of these directories has TensorBoard event "
                      f"files ({EVENTS_GLOB}); pass launch.train logdirs.")
  return paths


def parse_labels(items: Sequence[str]) -> list[tuple[str, str]]:
  """['i2a=runs/*i2a*', ...] -> [('i2a', 'runs/*i2a*'), ...]."""
  pairs = []
  for item in items:
    name, sep, pattern = item.partition("=")
    if not sep or not name or not pattern:
      raise ReportError(f"--labels: {item!r} is not name=glob (for example i2a=runs/i2a_*).")
    pairs.append((name, pattern))
  return pairs


def load_runs(patterns: Sequence[str], labels: Sequence[tuple[str, str]] = ()) -> list[Run]:
  """Reads every run of `patterns`; a run whose path or name matches a `labels` glob (first match)
  takes that label, else the label of its stored config, else its name without the seed suffix."""
  runs = []
  for path in expand_runs(patterns):
    config = read_config(path)
    agent, seed = name_label(os.path.basename(path))
    panel = ""
    if config is not None:
      agent, panel = config_label(config)
      seed = seed if config.get("seed") is None else config["seed"]  # None: a non-deterministic run.
    for name, pattern in labels:
      if fnmatch.fnmatch(path, os.path.normpath(pattern)) or fnmatch.fnmatch(os.path.basename(path), pattern):
        agent = name
        break
    scalars, wall_seconds = read_scalars(path)
    runs.append(Run(path, agent, panel, seed, scalars, wall_seconds, read_evaluations(path), config))
  return runs
