"""launch.report's statistics tables: per agent, the interquartile mean and median over seeds with
bootstrap intervals, Wilson intervals for the evaluation levels, and the probability that one named
agent beats each other agent (Agarwal et al. 2021; the method and its choices are in seed_stats).

Quantities, per run of a curve (tables.Curve):
- 'final <metric>': the mean of the run's last `last_points` logged (unsmoothed) points;
- 'eval <mode>, <what>' (e.g. 'eval sampled, 1 boxes'): the run's launch.evaluate result, for the
  runs that have one;
- 'frames to <p>%' (solve-rate curves only): the first logged frame at which the run's smoothed curve
  reaches p; +inf (censored) if it never does. Fewer is better.

Written as Markdown (`markdown`) and as stats.csv (`write_csv`), one row per (quantity, agent,
statistic) with statistic 'iqm', 'median', 'wilson' (pooled levels solved / played over the runs) or
'p_better' (P(agent > versus)).
"""
import collections
import csv
import dataclasses
from typing import Optional, Sequence

import numpy as np

from i2a.reporting import run_groups
from i2a.reporting import seed_stats

_CSV_COLUMNS = ("panel", "metric", "quantity", "agent", "versus", "statistic", "runs", "value", "low", "high",
                "bound", "solved", "played")


@dataclasses.dataclass
class Quantity:
  """One quantity of one agent's runs.

  Attributes:
    values: [n] float64, one per run that has it (inf: censored).
    last_frames: [n] each run's last frame (censored quantities), else None.
    counts: (levels solved, levels played) summed over the runs, for evaluations that count levels.
  """
  values: np.ndarray
  last_frames: Optional[np.ndarray] = None
  counts: Optional[tuple] = None


@dataclasses.dataclass
class Row:
  """A row of stats.csv.

  Attributes:
    panel, metric, quantity, agent: what it describes.
    versus: the other agent of a 'p_better' row, else ''.
    statistic: 'iqm', 'median', 'wilson' or 'p_better'.
    estimate: the value with its interval (seed_stats.Estimate).
    counts: (solved, played) of a 'wilson' row, else None.
  """
  panel: str
  metric: str
  quantity: str
  agent: str
  versus: str
  statistic: str
  estimate: seed_stats.Estimate
  counts: Optional[tuple] = None


def is_frames(quantity: str) -> bool:
  """Whether fewer is better (frames to reach a level), not more."""
  return quantity.startswith("frames to ")


def quantities(curve, last_points: int, levels: Sequence[float]) -> dict:
  """Quantity name -> Quantity for one curve's runs (see the module docstring)."""
  found = collections.OrderedDict()
  found[f"final {curve.metric}"] = Quantity(np.array([np.mean(v[-last_points:]) for _, v, _ in curve.points]))
  for key in sorted({k for r in curve.runs for k in r.evaluations}):
    having = [r for r in curve.runs if key in r.evaluations]
    counted = [r.evaluation_counts[key] for r in having if key in r.evaluation_counts]
    counts = tuple(np.sum(counted, axis=0).tolist()) if len(counted) == len(having) else None
    found[f"eval {key}"] = Quantity(np.array([r.evaluations[key] for r in having]), counts=counts)
  if curve.metric == "solve_rate":
    for level in levels:
      found[f"frames to {level:.0%}"] = Quantity(
          np.array([seed_stats.frames_to_reach(f, s, level) for f, _, s in curve.points]),
          last_frames=np.array([float(f[-1]) for f, _, _ in curve.points]))
  return found


def resolve_agent(name: str, agents: Sequence[str]) -> str:
  """The agent label `name` means: itself, else the one label whose first word it is ('i2a' ->
  'i2a depth5').

  Raises:
    run_groups.ReportError: no label or several labels fit.
  """
  if name in agents:
    return name
  fits = sorted({a for a in agents if a.split(" ")[0] == name})
  if not fits:
    raise run_groups.ReportError(f"--compare_to={name}: no agent is called so; choose one of: "
                                f"{', '.join(sorted(set(agents)))}.")
  if len(fits) > 1:
    raise run_groups.ReportError(f"--compare_to={name}: several agents start with it ({', '.join(fits)}); "
                                "give the full label.")
  return fits[0]


def compute(curves: Sequence, last_points: int, levels: Sequence[float] = (0.5, 0.9),
            compare_to: Optional[str] = None, seed: int = 0,
            resamples: int = seed_stats.RESAMPLES) -> tuple[list[Row], list[str]]:
  """Every statistic of every curve.

  Args:
    curves: tables.Curve list (panels and agents in report order).
    last_points: logged points the final value averages.
    levels: solve rates whose frames-to-reach are reported.
    compare_to: the agent (label or its first word) compared with every other agent of its panels.
    seed: the bootstrap's seed.
    resamples: the bootstrap's resamples.
  Returns:
    (rows, notes).
  Raises:
    run_groups.ReportError: `compare_to` names no agent, or several.
  """
  rows, notes = [], []
  mine = resolve_agent(compare_to, [c.agent for c in curves]) if compare_to else None
  by_panel = collections.OrderedDict()
  for curve in curves:
    by_panel.setdefault((curve.panel, curve.metric), []).append((curve, quantities(curve, last_points, levels)))
  for (panel, metric), members in by_panel.items():
    for curve, found in members:
      for name, q in found.items():
        for statistic in seed_stats.STATISTICS:
          estimate = seed_stats.summarize(q.values, statistic, seed, resamples, q.last_frames)
          rows.append(Row(panel, metric, name, curve.agent, "", statistic, estimate))
        if q.counts is not None:
          solved, played = q.counts
          low, high = seed_stats.wilson_interval(solved, played)
          rows.append(Row(panel, metric, name, curve.agent, "", "wilson",
                          seed_stats.Estimate(solved / played, low, high, len(q.values)), q.counts))
    ours = next((found for curve, found in members if curve.agent == mine), None)
    if mine and ours is None:
      notes.append(f"{panel or metric}: no {mine} runs, so no P({mine} > other).")
      continue
    for curve, found in members if mine else ():
      if curve.agent == mine:
        continue
      for name in (n for n in ours if n in found):
        sign = -1.0 if is_frames(name) else 1.0  # Fewer frames is better: compare negated frames.
        estimate = seed_stats.compare(sign * ours[name].values, sign * found[name].values, seed, resamples)
        rows.append(Row(panel, metric, name, mine, curve.agent, "p_better", estimate))
  return rows, notes


def write_csv(rows: Sequence[Row], path: str) -> None:
  """stats.csv: one line per row; empty cells where there is no interval, bound or count."""
  def cell(x):
    return "" if x is None else x
  with open(path, "w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(_CSV_COLUMNS)
    for r in rows:
      e, (solved, played) = r.estimate, r.counts or (None, None)
      writer.writerow([r.panel, r.metric, r.quantity, r.agent, r.versus, r.statistic, e.runs, e.value,
                       cell(e.low), cell(e.high), cell(e.bound), cell(solved), cell(played)])


def _number(quantity: str, x: Optional[float]) -> str:
  if x is None:
    return "-"
  if np.isinf(x):
    return "inf"
  return f"{x:,.0f}" if is_frames(quantity) else f"{x:.3f}"


def _cell(estimate: seed_stats.Estimate, number) -> str:
  value = number(estimate.value)
  if np.isinf(estimate.value) and estimate.bound is not None:
    value = f"> {number(estimate.bound)} (censored)"
  if estimate.low is None:
    return f"{value} (1 seed)"
  return f"{value} [{number(estimate.low)}, {number(estimate.high)}]"


def markdown(rows: Sequence[Row], seed: int, resamples: int) -> str:
  """The statistics section of report.md: per panel, a table of agents x quantities and, if rows
  compare agents, a table of P(agent > other)."""
  lines = ["## Statistics over seeds", "",
           "Per agent and quantity: the interquartile mean (IQM, `scipy.stats.trim_mean(x, 0.25)`: with 2 "
           "or 3 runs, the mean of all of them) and the median over its runs, each with a 95% stratified "
           "percentile-bootstrap interval over seeds (Agarwal et al. 2021; "
           f"{resamples:,} resamples, seed {seed}); one run has no interval (\"1 seed\"). Levels: the "
           "evaluation's levels solved / played, pooled over the runs that have it, with the 95% Wilson "
           "interval of sampling those levels, which the seed interval leaves out. Frames to p%: the first "
           "logged frame at which a run's smoothed curve reaches p; a run that never does counts as "
           "infinity (censored), and an infinite statistic is shown as \"> B (censored)\", B being the "
           "statistic with each censored run at its last frame (a lower bound)."]
  for (panel, metric), members in run_groups.by_panel(rows).items():
    cells = collections.OrderedDict()
    for r in members:
      if r.statistic != "p_better":
        cells.setdefault((r.agent, r.quantity), {})[r.statistic] = r
    lines += ["", f"### {panel + ': ' if panel else ''}{metric}", "",
              "| Agent | Quantity | Runs | IQM [95% CI] | Median [95% CI] | Levels solved [95% Wilson] |",
              "|---|---|---|---|---|---|"]
    for (agent, quantity), found in cells.items():
      number = lambda x, q=quantity: _number(q, x)  # pylint: disable=cell-var-from-loop
      wilson = found.get("wilson")
      levels = "-" if wilson is None else (f"{wilson.counts[0]}/{wilson.counts[1]} = "
                                           f"{_cell(wilson.estimate, number)}")
      lines.append(f"| {agent} | {quantity} | {found['iqm'].estimate.runs} | "
                   f"{_cell(found['iqm'].estimate, number)} | {_cell(found['median'].estimate, number)} | "
                   f"{levels} |")
    compared = [r for r in members if r.statistic == "p_better"]
    if compared:
      mine = compared[0].agent
      names = list(dict.fromkeys(r.quantity for r in compared))
      lines += ["", f"P({mine} > other): the probability that a run of {mine} beats a run of the other agent, "
                "over all pairs of runs (ties count one half; frames to p%: fewer is better), with a 95% "
                "stratified bootstrap interval when both agents have 2 or more runs. 0.5: no difference.",
                "", "| Versus | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
      for versus in dict.fromkeys(r.versus for r in compared):
        got = {r.quantity: r.estimate for r in compared if r.versus == versus}
        lines.append(f"| {versus} | " + " | ".join(
            _cell(got[n], lambda x: f"{x:.2f}") if n in got else "-" for n in names) + " |")
  return "\n".join(lines) + "\n"
