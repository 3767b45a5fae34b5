"""Paper Table 2 at our scale: agents trained with one box, the fraction of new levels solved with more
boxes, per box count, over seeds.

    groups = [("standard", ["runs/study_sokoban_small_standard_s1", ...]), ("I2A", [...])]
    rows = generalisation_table.compute(groups)
    text = generalisation_table.markdown(rows)

Each run is a launch.train logdir or its exported summary; its evaluations are every launch.evaluate
results.json below it (run_reader.read_evaluations), sampled play only, so one run's box counts may come
from several evaluations (the study's 1 and 2 boxes, then 3). Per agent and box count: the interquartile
mean over seeds with a 95% stratified bootstrap interval (seed_stats), and apart from it the Wilson
interval of all seeds' levels pooled.
"""
import csv
import dataclasses
import re
from typing import Sequence

from i2a.reporting import run_reader
from i2a.reporting import seed_stats

_SAMPLED = re.compile(r"sampled, (\d+) boxes")  # run_reader.read_evaluations' keys of generated levels.


@dataclasses.dataclass(frozen=True)
class Cell:
  """One agent at one box count.

  Attributes:
    agent: the label.
    box_count: boxes per level.
    counts: (solved, played) of each seed that has this box count.
    solve_rate: interquartile mean over seeds, with its bootstrap interval.
    wilson: the Wilson interval of the seeds' levels pooled.
  """
  agent: str
  box_count: int
  counts: tuple[tuple[int, int], ...]
  solve_rate: seed_stats.Estimate
  wilson: tuple[float, float]


def box_counts(run_dir: str) -> dict[int, tuple[int, int]]:
  """Box count -> (solved, played) of the run's sampled evaluations on generated levels.

  Raises:
    run_reader.ReportError: an unreadable results file.
  """
  _, counts = run_reader.read_evaluations(run_dir)
  found = {}
  for key, count in counts.items():
    match = _SAMPLED.fullmatch(key)
    if match and count is not None:
      found[int(match.group(1))] = count
  return found


def compute(groups: Sequence[tuple[str, Sequence[str]]], seed: int = 0,
            resamples: int = seed_stats.RESAMPLES) -> list[Cell]:
  """One cell per agent and box count that any of its runs has, in box order.

  Raises:
    run_reader.ReportError: an agent with no sampled evaluation at all.
  """
  cells = []
  for agent, run_dirs in groups:
    per_run = [box_counts(d) for d in run_dirs]
    boxes = sorted(set().union(*per_run))
    if not boxes:
      raise run_reader.ReportError(f"{agent}: no sampled evaluation on generated levels in {', '.join(run_dirs)}.")
    for b in boxes:
      counts = tuple(run[b] for run in per_run if b in run)
      rates = [solved / played for solved, played in counts]
      cells.append(Cell(agent, b, counts, seed_stats.summarize(rates, "iqm", seed, resamples),
                        seed_stats.wilson_interval(sum(c[0] for c in counts), sum(c[1] for c in counts))))
  return cells


def _percent(x: float) -> str:
  return f"{100 * x:.1f}%"


def markdown(cells: Sequence[Cell]) -> str:
  """Agents down, box counts across; each cell 'IQM [bootstrap 95%] (n seeds; pooled Wilson 95%)'."""
  boxes = sorted({c.box_count for c in cells})
  agents = list(dict.fromkeys(c.agent for c in cells))
  lines = ["| agent | " + " | ".join(f"{b} box{'es' if b != 1 else ''}" for b in boxes) + " |",
           "|---|" + "---|" * len(boxes)]
  for agent in agents:
    row = []
    for b in boxes:
      cell = next((c for c in cells if c.agent == agent and c.box_count == b), None)
      if cell is None:
        row.append("-")
        continue
      estimate = cell.solve_rate
      interval = "" if estimate.low is None else f" [{_percent(estimate.low)}, {_percent(estimate.high)}]"
      seeds = f"{len(cell.counts)} seed{'s' if len(cell.counts) != 1 else ''}"
      row.append(f"{_percent(estimate.value)}{interval} ({seeds}; levels "
                 f"[{_percent(cell.wilson[0])}, {_percent(cell.wilson[1])}])")
    lines.append(f"| {agent} | " + " | ".join(row) + " |")
  return "\n".join(lines) + "\n"


def write_csv(cells: Sequence[Cell], path: str) -> None:
  """One line per agent and box count: the estimate, its interval, seeds, pooled counts and Wilson interval."""
  with open(path, "w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(["agent", "box_count", "seeds", "iqm", "ci_low", "ci_high", "solved", "played",
                     "wilson_low", "wilson_high"])
    for c in cells:
      e = c.solve_rate
      writer.writerow([c.agent, c.box_count, len(c.counts), repr(e.value), "" if e.low is None else repr(e.low),
                       "" if e.high is None else repr(e.high), sum(x[0] for x in c.counts),
                       sum(x[1] for x in c.counts), repr(c.wilson[0]), repr(c.wilson[1])])
