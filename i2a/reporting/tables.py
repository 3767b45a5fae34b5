"""launch.report's numbers: one curve per agent over its runs' seeds, their points as CSV, and the
Markdown summary table.

A curve is the mean over an agent's runs of a scalar against frames (paper Fig. 4 for Sokoban's solve
rate, App. B's MiniPacman return curves), shaded between the runs' min and max (or mean +- std); or,
with band 'bootstrap', their interquartile mean shaded with its 95% stratified bootstrap interval over
runs (Agarwal et al. 2021; see seed_stats). Runs log at different frame counts, so their (optionally smoothed) points are linearly interpolated onto the
union of their frame counts within the range that every run covers; one run's curve is its own points.
"""
import collections
import csv
import dataclasses
import os
from typing import Sequence

import numpy as np

from i2a.reporting import run_groups
from i2a.reporting import seed_stats

AUTO_METRICS = ("solve_rate", "episode_return")  # Sokoban's curve if logged, else the return.
BANDS = ("minmax", "std", "bootstrap")
# Settings that do not change what is learned: runs differing only in these are seeds of one agent.
_NOT_EXPERIMENT = {"seed", "agent.seed", "logdir", "total_frames", "max_seconds", "log_every_secs",
                   "checkpoint_every_secs", "checkpoint_every_frames", "max_checkpoints", "num_actors",
                   "queue_size", "backend", "ray_address", "ray_connect_timeout_secs", "deterministic",
                   "learner.device", "learner.jit_compile", "env_model_checkpoint"}


@dataclasses.dataclass
class Curve:
  """One agent's line in one panel.

  Attributes:
    panel, metric, agent: where it is drawn, the scalar drawn, the label.
    runs: the runs it averages.
    points: per run, (frames [N] int64, values [N] float64, smoothed values [N] float64).
    frames, mean, std, low, high: the runs' mean and standard deviation and the band's edges, [M]
      each (M = 0 if the runs share no range).
    center: [M] the line drawn: the mean, or the interquartile mean with band 'bootstrap'.
  """
  panel: str
  metric: str
  agent: str
  runs: list
  points: list
  frames: np.ndarray
  mean: np.ndarray
  std: np.ndarray
  low: np.ndarray
  high: np.ndarray
  center: np.ndarray


def smooth(values: np.ndarray, window: int) -> np.ndarray:
  """Trailing moving average: point i is the mean of points max(0, i - window + 1) .. i."""
  sums = np.concatenate([[0.0], np.cumsum(values, dtype=np.float64)])
  ends = np.arange(1, len(values) + 1)
  starts = np.maximum(ends - window, 0)
  return (sums[ends] - sums[starts]) / (ends - starts)


def _band(points: list, band: str, seed: int, resamples: int):
  if len(points) == 1:
    frames, _, values = points[0]
    return frames, values, np.zeros_like(values), values, values, values
  lo, hi = max(p[0][0] for p in points), min(p[0][-1] for p in points)
  frames = np.unique(np.concatenate([p[0] for p in points]))
  frames = frames[(frames >= lo) & (frames <= hi)]
  stacked = np.stack([np.interp(frames, f, v) for f, _, v in points]) if len(frames) else np.zeros((2, 0))
  mean, std = stacked.mean(axis=0), stacked.std(axis=0)
  if band == "std":
    return frames, mean, std, mean - std, mean + std, mean
  if band == "bootstrap":
    if not len(frames):
      return frames, mean, std, mean, mean, mean
    low, high = seed_stats.bootstrap_interval([stacked.T], seed_stats.iqm, seed, resamples)
    return frames, mean, std, low, high, seed_stats.iqm(stacked, axis=0)
  return frames, mean, std, stacked.min(axis=0), stacked.max(axis=0), mean


def _flat(values: dict, prefix: str = "") -> dict:
  out = {}
  for key, value in values.items():
    out.update(_flat(value, f"{prefix}{key}.") if isinstance(value, dict) else {f"{prefix}{key}": value})
  return out


def _config_differences(runs: list) -> list[str]:
  configs = [_flat(r.config) for r in runs if r.config is not None]
  keys = sorted({k for c in configs for k in c} - _NOT_EXPERIMENT)
  return [k for k in keys if len({repr(c.get(k)) for c in configs}) > 1]


def build_curves(runs: Sequence[run_groups.Run], metric: str = "auto", window: int = 1,
                 band: str = "minmax", seed: int = 0,
                 resamples: int = seed_stats.RESAMPLES) -> tuple[list[Curve], list[str]]:
  """Groups `runs` by (panel, metric, agent) into curves.

  Args:
    runs: the runs, in the order their agents should be listed.
    metric: the scalar tag to draw, or 'auto': solve_rate where a run logged it, else episode_return.
    window: moving-average window in logged points (1: no smoothing).
    band: 'minmax', 'std' (mean +- standard deviation over runs) or 'bootstrap' (the IQM's 95%
      bootstrap interval over runs, pointwise).
    seed: the bootstrap's seed (band 'bootstrap').
    resamples: the bootstrap's resamples (band 'bootstrap').
  Returns:
    (curves, notes): notes name runs left out and groups whose configs differ beyond their seeds.
  Raises:
    run_groups.ReportError: no run has the metric, or window < 1, or an unknown band.
  """
  if window < 1:
    raise run_groups.ReportError(f"--smoothing={window}: the window must be at least 1 point.")
  if band not in BANDS:
    raise run_groups.ReportError(f"--band={band!r}: expected one of {BANDS}.")
  groups, notes = collections.OrderedDict(), []
  for run in runs:
    tags = [metric] if metric != "auto" else AUTO_METRICS
    chosen = next((t for t in tags if t in run.scalars and len(run.scalars[t][0])), None)
    if chosen is None:
      notes.append(f"{run.path} has no {' or '.join(tags)} points yet; left out.")
      continue
    groups.setdefault((run.panel, chosen, run.agent), []).append(run)
  if not groups:
    raise run_groups.ReportError(f"No run has {metric if metric != 'auto' else ' or '.join(AUTO_METRICS)} "
                                "scalars; choose another --metric or train longer.")
  curves = []
  for (panel, chosen, agent), members in groups.items():
    points = [(*m.scalars[chosen], smooth(m.scalars[chosen][1], window)) for m in members]
    curves.append(Curve(panel, chosen, agent, members, points, *_band(points, band, seed, resamples)))
    if len(members) > 1 and not len(curves[-1].frames):
      notes.append(f"{agent}: its runs cover no common frame range, so no mean is drawn.")
    differing = _config_differences(members)
    if differing:
      notes.append(f"{agent}: its runs differ in {', '.join(differing)} (not only the seed); "
                   "use --labels to separate them.")
  return curves, notes


def write_points(curves: Sequence[Curve], path: str) -> None:
  """Every run's logged points: panel, metric, agent, run, seed, frames, value, smoothed."""
  with open(path, "w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(["panel", "metric", "agent", "run", "seed", "frames", "value", "smoothed"])
    for c in curves:
      for run, (frames, values, smoothed) in zip(c.runs, c.points):
        seed = "" if run.seed is None else run.seed
        writer.writerows([c.panel, c.metric, c.agent, run.name, seed, int(x), float(v), float(s)]
                         for x, v, s in zip(frames, values, smoothed))


def write_curves(curves: Sequence[Curve], path: str) -> None:
  """The drawn lines: panel, metric, agent, runs, frames, mean, std, low, high (the band's edges),
  center (the line: the mean, or the IQM with band 'bootstrap')."""
  with open(path, "w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(["panel", "metric", "agent", "runs", "frames", "mean", "std", "low", "high", "center"])
    for c in curves:
      writer.writerows([c.panel, c.metric, c.agent, len(c.runs), int(x), float(m), float(s), float(lo),
                        float(hi), float(mid)]
                       for x, m, s, lo, hi, mid in zip(c.frames, c.mean, c.std, c.low, c.high, c.center))


def _spread(values: Sequence[float], fmt: str = "{:.3f}") -> str:
  if len(values) == 1:
    return fmt.format(values[0])
  return f"{fmt.format(np.mean(values))} [{fmt.format(min(values))}, {fmt.format(max(values))}]"


_BAND_WORDS = {"minmax": "mean over each agent's runs against environment frames, shaded between min "
               "and max over runs",
               "std": "mean over each agent's runs against environment frames, shaded mean +- std over runs",
               "bootstrap": "interquartile mean over each agent's runs against environment frames, shaded "
                            "with its 95% stratified bootstrap interval over runs (Agarwal et al. 2021)"}


def markdown(curves: Sequence[Curve], notes: Sequence[str], last_points: int, window: int,
             band: str, statistics: str = "") -> str:
  """The report: per panel, a table with one row per agent (values over runs: mean [min, max]).

  Args:
    curves: the curves of `build_curves`.
    notes: its notes, listed at the end.
    last_points: how many logged points the final value averages.
    window: the smoothing window, in logged points.
    band: the curves' band (see `build_curves`).
    statistics: Markdown placed after the tables and before the totals (stats_tables).
  Returns:
    The report's Markdown text.
  """
  lines = ["# Training report", "",
           f"Curves: {_BAND_WORDS[band]}"
           f"{f', smoothed over {window} logged points' if window > 1 else ''}. Final: the mean of "
           f"each run's last {last_points} logged points. At equal frames: each run's (smoothed) curve "
           "read at the largest frame count every run of the panel reached, so agents that ran for "
           "different lengths compare at the same budget. Evaluations: launch.evaluate's fraction solved "
           "(Sokoban) or mean return (MiniPacman)."]
  for (panel, metric), members in run_groups.by_panel(curves).items():
    evals = sorted({k for c in members for r in c.runs for k in r.evaluations})
    common = min(int(f[-1]) for c in members for f, _, _ in c.points)
    lines += ["", f"## {panel + ': ' if panel else ''}{metric}", "",
              "| " + " | ".join(["Agent", "Runs", "Seeds", "Frames", f"Final {metric}",
                                 f"{metric} at {common:,} frames", "Wall time per run (h)"]
                                + [f"Eval {k}" for k in evals]) + " |",
              "|" + "---|" * (7 + len(evals))]
    for c in members:
      ends = [int(f[-1]) for f, _, _ in c.points]
      frames = f"{ends[0]:,}" if len(set(ends)) == 1 else f"{min(ends):,}-{max(ends):,}"
      seeds = ", ".join(str(r.seed) for r in c.runs if r.seed is not None) or "-"
      cells = [c.agent, str(len(c.runs)), seeds, frames,
               _spread([float(np.mean(v[-last_points:])) for _, v, _ in c.points]),
               _spread([float(np.interp(common, f, smoothed)) for f, _, smoothed in c.points]),
               _spread([r.wall_seconds / 3600 for r in c.runs], "{:.2f}")]
      for key in evals:
        got = [r.evaluations[key] for r in c.runs if key in r.evaluations]
        cells.append("-" if not got else _spread(got) + (
            f" ({len(got)} of {len(c.runs)} runs)" if len(got) < len(c.runs) else ""))
      lines.append("| " + " | ".join(cells) + " |")
  if statistics:
    lines += ["", statistics.rstrip("\n")]
  total = sum(r.wall_seconds for c in curves for r in c.runs) / 3600
  lines += ["", f"Runs: {sum(len(c.runs) for c in curves)}; total wall time {total:.2f} h."]
  if notes:
    lines += ["", "Notes:", ""] + [f"- {note}" for note in notes]
  return "\n".join(lines) + "\n"


def write_markdown(text: str, path: str) -> None:
  os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
  with open(path, "w") as f:
    f.write(text)
