"""Paper Table 1 at our scale: levels solved and model steps per level of I2A alone, I2A with the outer
Monte Carlo search, and MCTS with the perfect model, each method's runs on the same levels.

    groups = search_table.group([("I2A", "runs/x/i2a_s1_alone"), ("I2A", "runs/x/i2a_s2_alone"), ...])
    rows = search_table.compute(groups)
    text = search_table.markdown(rows)

A run is one results file (or the directory holding it): launch.evaluate --outer_search's rows, or
launch.mcts_sokoban's JSON. Model steps per level are what each method spends on a model:
- the outer search: every imagined step of its attempts plus the agent's own imagination in them
  (i2a/planning/outer_search.py), as the paper counts them (Sec. 4.3);
- one attempt with the perfect model is the agent playing the level alone: the simulator's step is the
  real move, so only the agent's own imagination counts (agent_model_steps_per_step of every 1 +
  agent_model_steps_per_step charged; paper Table 1's I2A row);
- MCTS: its simulator steps (App. D.3).
Across runs (seeds), the solve rate is the interquartile mean with a 95% stratified bootstrap interval
(seed_stats, as the seed table), and the Wilson interval of all the runs' levels pooled is kept apart.
"""
import csv
import dataclasses
import json
import os
from typing import Optional, Sequence

import numpy as np

from i2a.reporting import run_reader
from i2a.reporting import seed_stats


@dataclasses.dataclass(frozen=True)
class Result:
  """One run of one method.

  Attributes:
    path: the results file.
    levels: levels played.
    solved: levels solved (by the real environment).
    model_steps: mean model steps per level (see the module docstring).
    found: the fraction of levels the model said an attempt solves (outer search), else None.
  """
  path: str
  levels: int
  solved: int
  model_steps: float
  found: Optional[float] = None


@dataclasses.dataclass(frozen=True)
class Row:
  """One method over its runs.

  Attributes:
    method: the label.
    results: its runs.
    solve_rate: interquartile mean of the runs' solve rates, with its bootstrap interval over runs.
    wilson: the Wilson interval of all levels pooled (low, high).
    model_steps: the mean over runs of model steps per level.
  """
  method: str
  results: tuple[Result, ...]
  solve_rate: seed_stats.Estimate
  wilson: tuple[float, float]
  model_steps: float


def read_result(path: str) -> Result:
  """The run in results file `path` (or `path/results.json`).

  Raises:
    run_reader.ReportError: no readable file, or neither an outer search's rows nor an MCTS result.
  """
  if os.path.isdir(path):
    path = os.path.join(path, run_reader.RESULTS_FILE)
  try:
    with open(path) as f:
      data = json.load(f)
  except (OSError, ValueError) as error:
    raise run_reader.ReportError(f"Cannot read the search results {path}: {error}") from error
  if isinstance(data, dict) and "mean_simulator_steps" in data:  # launch.mcts_sokoban.
    return Result(path, int(data["levels"]), int(data["solved"]), float(data["mean_simulator_steps"]))
  rows = [row for row in data if "mean_model_steps" in row] if isinstance(data, list) else []
  if len(rows) != 1:
    raise run_reader.ReportError(f"{path} is not one launch.evaluate --outer_search row nor a "
                                 "launch.mcts_sokoban result.")
  row = rows[0]
  steps = float(row["mean_model_steps"])
  if row.get("perfect_model") and row["max_retries"] == 1:  # The agent alone: its own imagination only.
    own = int(row["agent_model_steps_per_step"])
    steps *= own / (1 + own)
  return Result(path, int(row["episodes"]), int(row["solved"]), steps, float(row["fraction_found"]))


def group(items: Sequence[tuple[str, str]]) -> list[tuple[str, list[str]]]:
  """(label, path) pairs -> (label, paths) in the order labels first appear."""
  groups: dict[str, list[str]] = {}
  for label, path in items:
    groups.setdefault(label, []).append(path)
  return list(groups.items())


def compute(groups: Sequence[tuple[str, Sequence[str]]], seed: int = 0,
            resamples: int = seed_stats.RESAMPLES) -> list[Row]:
  """One row per method, from its runs' results files."""
  rows = []
  for method, paths in groups:
    results = tuple(read_result(p) for p in paths)
    rates = [r.solved / r.levels for r in results]
    solved, played = sum(r.solved for r in results), sum(r.levels for r in results)
    rows.append(Row(method, results, seed_stats.summarize(rates, "iqm", seed, resamples),
                    seed_stats.wilson_interval(solved, played),
                    float(np.mean([r.model_steps for r in results]))))
  return rows


def _percent(x: float) -> str:
  return f"{100 * x:.1f}%"


def markdown(rows: Sequence[Row]) -> str:
  """The table: method, runs, levels per run, solve rate (IQM over runs [95% bootstrap]), Wilson
  interval of the pooled levels, model steps per level (mean over runs [min-max])."""
  lines = ["| method | runs | levels per run | solved (IQM over runs [95% CI]) | pooled levels [Wilson 95%] "
           "| model steps per level (mean over runs [range]) |", "|---|---|---|---|---|---|"]
  for row in rows:
    estimate = row.solve_rate
    interval = "" if estimate.low is None else f" [{_percent(estimate.low)}, {_percent(estimate.high)}]"
    levels = sorted({r.levels for r in row.results})
    steps = [r.model_steps for r in row.results]
    spread = "" if len(steps) < 2 else f" [{min(steps):,.0f}-{max(steps):,.0f}]"
    pooled = sum(r.solved for r in row.results) / sum(r.levels for r in row.results)
    lines.append(f"| {row.method} | {len(row.results)} | {', '.join(map(str, levels))} | "
                 f"{_percent(estimate.value)}{interval} | {_percent(pooled)} [{_percent(row.wilson[0])}, "
                 f"{_percent(row.wilson[1])}] | {row.model_steps:,.0f}{spread} |")
  return "\n".join(lines) + "\n"


def write_csv(rows: Sequence[Row], path: str) -> None:
  """Every run: method, results file, levels, solved, fraction solved, model steps per level, found."""
  with open(path, "w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(["method", "path", "levels", "solved", "fraction_solved", "model_steps_per_level",
                     "fraction_found"])
    for row in rows:
      for r in row.results:
        writer.writerow([row.method, r.path, r.levels, r.solved, repr(r.solved / r.levels), repr(r.model_steps),
                         "" if r.found is None else repr(r.found)])
