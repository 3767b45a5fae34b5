r"""Generates Sokoban levels (paper App. D.4) into Boxoban-format files, using several processes.

  python -m launch.generate_levels --num=10000 --output_dir=/tmp/levels --processes=2 --solve_sample=100

Writes `<out>/000.txt`, `001.txt`, ... with `--levels_per_file` levels each, headers numbered from 0
within each file, like DeepMind's Boxoban files. Levels are made in chunks of `CHUNK` levels; chunk k
uses its own generator seeded with (seed, k), so the output depends on --seed (and the level size and
box count) but not on --processes. Prints levels/s (wall clock and per process CPU), the mean RoomScore,
and with --solve_sample=K the mean optimal push and move counts of the first K levels (exact solver),
so speed is never read without quality.
"""
import dataclasses
import math
import multiprocessing
import os
import time

from absl import app
from absl import flags
import numpy as np

from envs.sokoban import boxoban
from envs.sokoban import generator
from envs.sokoban import solver
from launch import common_flags


# This binary's default for a shared flag: the paper's training levels have 4 boxes (App. D.4).
DEFAULTS = dict(num_boxes=4)
common_flags.define("output_dir", "num_boxes", "seed")
flags.DEFINE_integer("num", None, "Number of levels to generate.", lower_bound=1)
flags.DEFINE_integer("width", 10, "Level width in cells.", lower_bound=generator.MIN_SIZE)
flags.DEFINE_integer("height", 10, "Level height in cells.", lower_bound=generator.MIN_SIZE)
flags.DEFINE_integer("processes", 1, "Worker processes.", lower_bound=1)
flags.DEFINE_integer("levels_per_file", 1000, "Levels per output file.", lower_bound=1)
flags.DEFINE_integer("solve_sample", 0, "Solve this many levels to report quality.", lower_bound=0)
flags.DEFINE_integer("solver_max_states", solver.DEFAULT_MAX_STATES, "Solver state budget per level.",
                     lower_bound=1)
flags.DEFINE_integer("max_states", generator.GeneratorConfig.max_states,
                     "Reverse-play state cap per placement (GeneratorConfig).", lower_bound=1)
flags.DEFINE_float("min_score_factor", generator.GeneratorConfig.min_score_factor,
                   "Retry threshold factor (GeneratorConfig).", lower_bound=0.0)
flags.DEFINE_bool("overwrite", False, "Replace existing level files in --output_dir.")


CHUNK = 100  # Levels per work item; fixed so that the output does not depend on --processes.


@dataclasses.dataclass(frozen=True)
class Chunk:
  """One work item: levels [start, start + count) of the run."""
  index: int
  count: int
  seed: int
  width: int
  height: int
  num_boxes: int
  config: generator.GeneratorConfig


def _generate_chunk(chunk: Chunk) -> tuple[list[np.ndarray], list[int], int, float]:
  """Returns (levels, RoomScores, levels below the quality threshold, CPU seconds)."""
  rng = np.random.default_rng(np.random.SeedSequence([chunk.seed, chunk.index]))
  start = time.process_time()
  infos = [generator.generate_level_with_info(rng, chunk.width, chunk.height, chunk.num_boxes,
                                              chunk.config)
           for _ in range(chunk.count)]
  cpu = time.process_time() - start
  return ([i.level for i in infos], [i.room_score for i in infos],
          sum(not i.met_threshold for i in infos), cpu)


def _solve_stats(level: np.ndarray, max_states: int) -> tuple[int, int] | None:
  """(optimal pushes, moves) of a level, or None if the solver budget ran out."""
  try:
    solution = solver.solve(level, max_states=max_states)
  except solver.SolverBudgetExceeded:
    return None
  if solution is None:
    raise RuntimeError("the generator produced an unsolvable level:\n" + str(level))
  return solution.num_pushes, len(solution.moves)


def generate(num: int, out: str, num_boxes: int = 4, width: int = 10, height: int = 10, seed: int = 0,
             processes: int = 1, levels_per_file: int = 1000, solve_sample: int = 0,
             solver_max_states: int = solver.DEFAULT_MAX_STATES, overwrite: bool = False,
             config: generator.GeneratorConfig | None = None) -> dict:
  """Generates `num` levels into Boxoban files in `out`; returns the figures it prints.

  Raises:
    ValueError: bad arguments, or level files that already exist without `overwrite`.
  """
  if num < 1 or processes < 1 or levels_per_file < 1 or solve_sample < 0:
    raise ValueError(f"need num >= 1, processes >= 1, levels_per_file >= 1, solve_sample >= 0; got "
                     f"{num}, {processes}, {levels_per_file}, {solve_sample}")
  generator.check_arguments(width, height, num_boxes)
  num_files = math.ceil(num / levels_per_file)
  digits = max(3, len(str(num_files - 1)))
  paths = [os.path.join(out, f"{k:0{digits}d}.txt") for k in range(num_files)]
  existing = [p for p in paths if os.path.exists(p)]
  if existing and not overwrite:
    raise ValueError(f"{existing[0]} already exists ({len(existing)} of the output files do); "
                     "pass --overwrite or choose another --output_dir")
  os.makedirs(out, exist_ok=True)
  config = config or generator.GeneratorConfig()
  chunks = [Chunk(index=k, count=min(CHUNK, num - k * CHUNK), seed=seed, width=width, height=height,
                  num_boxes=num_boxes, config=config) for k in range(math.ceil(num / CHUNK))]
  pending, sample, scores, below, cpu, written = [], [], [], 0, 0.0, 0
  start = time.perf_counter()
  pool = multiprocessing.get_context("spawn").Pool(processes) if processes > 1 else None
  try:
    results = pool.imap(_generate_chunk, chunks) if pool else map(_generate_chunk, chunks)
    for chunk_levels, chunk_scores, chunk_below, chunk_cpu in results:
      sample.extend(chunk_levels[:solve_sample - len(sample)])
      pending.extend(chunk_levels)
      scores.extend(chunk_scores)
      below += chunk_below
      cpu += chunk_cpu
      while len(pending) >= levels_per_file or (pending and len(scores) == num):
        boxoban.write_levels(paths[written], pending[:levels_per_file])
        del pending[:levels_per_file]
        written += 1
    elapsed = time.perf_counter() - start
    stats = {"levels": num, "files": num_files, "seconds": elapsed, "levels_per_s": num / elapsed,
             "levels_per_cpu_s": num / cpu if cpu > 0 else float("inf"),
             "mean_room_score": float(np.mean(scores)), "below_threshold": below}
    if solve_sample:
      jobs = [(level, solver_max_states) for level in sample]
      solved = pool.starmap(_solve_stats, jobs) if pool else [_solve_stats(*job) for job in jobs]
      done = [s for s in solved if s is not None]
      stats.update(solved=len(done), solver_budget_exceeded=len(solved) - len(done),
                   mean_optimal_pushes=float(np.mean([p for p, _ in done])) if done else math.nan,
                   mean_moves=float(np.mean([m for _, m in done])) if done else math.nan)
  finally:
    if pool:
      pool.close()
      pool.join()
  return stats


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  fv = flags.FLAGS
  num_boxes = common_flags.settings(fv, DEFAULTS, ("num_boxes",)).num_boxes
  if fv.num is None:
    raise app.UsageError("--num is required: the number of levels to generate")
  if not fv.output_dir:
    raise app.UsageError("--output_dir must name an output directory")
  if not 1 <= num_boxes <= generator.MAX_BOXES:
    raise app.UsageError(f"--num_boxes={num_boxes}: give 1 to {generator.MAX_BOXES} boxes")
  if fv.seed is None or fv.seed < 0:
    raise app.UsageError(f"--seed={fv.seed}: the generator's base seed must be >= 0")
  if fv.solve_sample > fv.num:
    raise app.UsageError(f"--solve_sample={fv.solve_sample} exceeds --num={fv.num}")
  try:
    config = generator.GeneratorConfig(max_states=fv.max_states,
                                       min_score_factor=fv.min_score_factor)
    stats = generate(fv.num, fv.output_dir, num_boxes, fv.width, fv.height,
                     fv.seed, fv.processes, fv.levels_per_file, fv.solve_sample,
                     fv.solver_max_states, fv.overwrite, config)
  except ValueError as e:
    raise app.UsageError(str(e)) from e
  print(f"wrote {stats['levels']} levels ({fv.width}x{fv.height}, {num_boxes} boxes) "
        f"in {stats['files']} files to {fv.output_dir}")
  print(f"levels/s: {stats['levels_per_s']:.1f} wall ({fv.processes} processes), "
        f"{stats['levels_per_cpu_s']:.1f} per process CPU second")
  print(f"mean RoomScore: {stats['mean_room_score']:.1f}; below the quality threshold (best "
        f"fallback): {stats['below_threshold']}")
  if fv.solve_sample:
    print(f"solved sample: {stats['solved']} levels, mean optimal pushes "
          f"{stats['mean_optimal_pushes']:.2f}, mean moves {stats['mean_moves']:.1f}, solver budget "
          f"exceeded: {stats['solver_budget_exceeded']}")


if __name__ == "__main__":
  app.run(main)
