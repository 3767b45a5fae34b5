"""Reads finished or running training runs for launch.report: their TensorBoard scalars, stored config
and evaluation results, and names the agent each run belongs to.

A run is a launch.train logdir or the summary `run_summary.export_run_summary` exported of one (see
`run_reader`, which reads either). Runs of one agent that differ only in their seed are grouped (paper
Fig. 4 and App. B draw one line per agent over several seeds).

    runs = run_groups.load_runs(["runs/sokoban_*"], labels=[("i2a", "runs/*i2a*")])
    runs = run_groups.load_runs(["results/sokoban_small/runs/*"])  # The same, from exported summaries.
"""
import collections
import dataclasses
import fnmatch
import glob
import os
import re
from typing import Callable, Optional, Sequence

from absl import logging

from i2a.reporting import run_reader

ReportError = run_reader.ReportError  # One error type for every user mistake launch.report names.
_SEED_SUFFIX = re.compile(r"^(.+?)[_-](?:s|seed)(\d+)$")


@dataclasses.dataclass
class Run:
  """One training run.

  Attributes:
    path: its logdir or exported summary directory.
    agent: the agent label it is grouped under.
    panel: what its curve is comparable with (game, task, room), '' when no config is stored.
    seed: the run's seed (from the config, else from the directory name), None if unknown.
    scalars: tag -> (frames [N] int64, values [N] float64), frames strictly increasing.
    wall_seconds: time spent writing its event files, summed over resumed segments.
    evaluations: '<mode>, <levels or task>' -> solve rate or mean return (see
      `run_reader.read_evaluations`).
    config: the stored TrainConfig as a dict, None if none.
    evaluation_counts: the evaluations' keys that count levels -> (solved, played) ints.
  """
  path: str
  agent: str
  panel: str
  seed: Optional[int]
  scalars: dict
  wall_seconds: float
  evaluations: dict
  config: Optional[dict] = None
  evaluation_counts: dict = dataclasses.field(default_factory=dict)

  @property
  def name(self) -> str:
    return os.path.basename(os.path.normpath(self.path))


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
    # The room size is the agent's geometry in configs stored since the geometry moved there, the env's before.
    room, boxes = env.get("room_size", agent.get("room_size")), env.get("num_boxes")
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

  A run is a directory with event files or an exported summary's marker. A glob's other directories
  are skipped (a glob of runs/ may catch other outputs); an explicitly named directory must be a run.

  Raises:
    ReportError: a pattern matches no directory, an explicit one is no run, or no run is left.
  """
  paths = []
  for pattern in patterns:
    matches = sorted(p for p in glob.glob(pattern) if os.path.isdir(p))
    if not matches:
      raise ReportError(f"--runs: {pattern!r} matches no directory.")
    is_glob = glob.has_magic(pattern)
    for path in matches:
      if not (run_reader.has_events(path) or run_reader.is_summary(path)):
        if not is_glob:
          run_reader.read_scalars(path)  # Raises, naming the directory.
        logging.warning("Skipping %s: no event files and no run summary.", path)
      elif os.path.normpath(path) not in paths:
        paths.append(os.path.normpath(path))
  if not paths:
    raise ReportError(f"--runs={','.join(patterns)}: none of these directories has TensorBoard event "
                      f"files ({run_reader.EVENTS_GLOB}) or a run summary ({run_reader.SUMMARY_FILE}); "
                      "pass launch.train logdirs or exported summaries.")
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


def load_runs(patterns: Sequence[str], labels: Sequence[tuple[str, str]] = (),
              complete_config: Optional[Callable[[dict, str], dict]] = None) -> list[Run]:
  """Reads every run of `patterns` (logdirs or exported summaries, see `expand_runs`); a run whose path
  or name matches a `labels` glob (first match) takes that label, else the label of its stored config,
  else its name without the seed suffix.

  Args:
    patterns: paths or globs of runs.
    labels: (agent label, glob) pairs, as `parse_labels` gives them.
    complete_config: `(stored config, its path) -> the config with every setting of this version`, the
      settings a run predates at their defaults (launch.report passes `stored_config.completed`), so
      that runs stored by older versions compare with newer ones; on ValueError or TypeError the config
      is kept as stored. None: configs as stored. (A parameter, not an import: reporting imports no
      other package of i2a.)
  Returns:
    The runs, in the order of `expand_runs`.
  Raises:
    ReportError: see `expand_runs`, or a run's files are unreadable.
  """
  runs = []
  for path in expand_runs(patterns):
    config = run_reader.read_config(path)
    if config is not None and complete_config is not None:
      try:
        config = complete_config(config, path)
      except (ValueError, TypeError) as error:
        logging.warning("%s: its stored config is not one of this version (%s); read as stored.", path, error)
    agent, seed = name_label(os.path.basename(path))
    panel = ""
    if config is not None:
      agent, panel = config_label(config)
      seed = seed if config.get("seed") is None else config["seed"]  # None: a non-deterministic run.
    for name, pattern in labels:
      if fnmatch.fnmatch(path, os.path.normpath(pattern)) or fnmatch.fnmatch(os.path.basename(path), pattern):
        agent = name
        break
    scalars, wall_seconds = run_reader.read_run_scalars(path)
    evaluations, counts = run_reader.read_evaluations(path)
    runs.append(Run(path, agent, panel, seed, scalars, wall_seconds, evaluations, config, counts))
  return runs


def by_panel(items: Sequence) -> "collections.OrderedDict[tuple[str, str], list]":
  """`items` (anything with `panel` and `metric`: curves, statistics rows) grouped by (panel, metric),
  in order of first appearance: one figure panel or table per group."""
  groups = collections.OrderedDict()
  for item in items:
    groups.setdefault((item.panel, item.metric), []).append(item)
  return groups
