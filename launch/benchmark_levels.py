r"""Measures Sokoban env steps/s when episodes are short: levels generated per episode vs the level pool.

  python -m launch.benchmark_levels --seconds=3 --num_envs=16 --step_limits=5,20

A good agent solves a small level in a few steps, so every few steps each copy needs a new level. Here
random actions with a short step limit stand for such an agent: every episode lasts exactly
--step_limits steps (random play solves almost never). For each room size, box count and step limit it
times `BatchedSokoban` stepped in this process with levels from:
  fixed list    a fixed list of pre-generated levels (the ceiling: no generation at all);
  per episode   `generate_level` on the stepping thread at every reset (--level_workers=0);
  pool, wait    `LevelSupply` with --workers processes, waiting when dry (every level fresh);
  pool, replay  the same, replaying a recent level when dry (training's default).
Pool rows run after --warmup seconds of stepping and at least 256 fresh levels (the pool's initial
fill is spent and replays are allowed), and report the fraction of levels that were replays during the
timed window. On a 2-core machine the workers share
the cores with the stepping process, as they do with the actors and the learner in training.
"""
import time
from typing import Iterator, NamedTuple

from absl import app
from absl import flags
import numpy as np

from envs import sokoban
from envs.sokoban import level_supply
from launch import common_flags
from launch import config_flags

# Shared flags (launch/common_flags.py): timed --seconds per row (this binary's default: 3), the copies N
# stepped together (--num_envs) and the level supply's pool size (--level_pool_size).
DEFAULTS = dict(seconds=3.0)
config_flags.define("level_pool_size")
common_flags.define("seconds", "num_envs")
flags.DEFINE_float("warmup", 2.0, "Seconds stepped before timing a pool row.")
flags.DEFINE_list("step_limits", ["5", "20"], "Episode lengths (Sokoban max_steps) to measure.")
flags.DEFINE_list("sizes", ["6:1:2", "7:2:2", "10:4:8"], "room_size:num_boxes:pixels_per_cell of each level kind.")
flags.DEFINE_integer("workers", 1, "Level supply worker processes.", lower_bound=1)
flags.DEFINE_integer("nice", 10, "Niceness added to the level workers.", lower_bound=0)


def settings(fv: flags.FlagValues):
  """The flags this binary reads, with its own defaults (DEFAULTS) for the shared ones not given."""
  return common_flags.settings(fv, DEFAULTS, ("seconds", "num_envs", "level_pool_size", "warmup", "step_limits",
                                              "sizes", "workers", "nice"))


_MIN_REPLAY = 256  # LevelSupply's default min_replay.


class Row(NamedTuple):
  size: str
  max_steps: int
  source: str
  steps_per_s: float
  episodes_per_s: float
  replayed: float  # Fraction of the timed window's levels that were replays (nan: no pool).


def _step_for(env: sokoban.BatchedSokoban, seconds: float) -> tuple[int, int, float]:
  """Steps `env` with random actions for `seconds`; returns (env steps, episodes ended, seconds)."""
  actions = np.random.default_rng(0).integers(1, sokoban.NUM_ACTIONS, (64, env.num_envs)).astype(np.int32)
  steps = episodes = k = 0
  start = time.perf_counter()
  while (elapsed := time.perf_counter() - start) < seconds:
    timestep = env.step(actions[k % len(actions)])
    k += 1
    steps += env.num_envs
    episodes += int(np.count_nonzero(timestep.step_type == 2))
  return steps, episodes, elapsed


def _measure(env: sokoban.BatchedSokoban, size: str, max_steps: int, source: str,
             supply: level_supply.LevelSupply | None, fv) -> Row:
  env.reset()
  if supply is not None:  # Steady state: the initial fill spent, replays allowed (min_replay reached).
    _step_for(env, fv.warmup)
    while supply.stats().fresh < _MIN_REPLAY:
      _step_for(env, 0.1)
  before = supply.stats() if supply is not None else None
  steps, episodes, elapsed = _step_for(env, fv.seconds)
  replayed = float("nan")
  if supply is not None:
    after = supply.stats()
    fresh, replays = after.fresh - before.fresh, after.replayed - before.replayed
    replayed = replays / max(fresh + replays, 1)
  env.close()
  return Row(size, max_steps, source, steps / elapsed, episodes / elapsed, replayed)


def rows(room: int, boxes: int, ppc: int, max_steps: int, fv) -> Iterator[Row]:
  """The four rows of one level kind and step limit; `fv`: this binary's `settings`."""
  size = f"{room}x{room}, {boxes} box{'es' if boxes > 1 else ''}"
  kwargs = dict(width=room, height=room, num_boxes=boxes, max_steps=max_steps, pixels_per_cell=ppc)
  n = fv.num_envs
  fixed = [level_supply.fresh_level(0, j, room, room, boxes) for j in range(64)]
  yield _measure(sokoban.BatchedSokoban(n, levels=fixed, seed=0, **kwargs), size, max_steps,
                 "fixed list", None, fv)
  yield _measure(sokoban.BatchedSokoban(n, seed=0, **kwargs), size, max_steps, "per episode", None, fv)
  for when_dry in ("wait", "replay"):
    supply = level_supply.LevelSupply(room, room, boxes, seed=0, num_workers=fv.workers,
                                      pool_size=fv.level_pool_size, when_dry=when_dry,
                                      min_replay=_MIN_REPLAY, nice=fv.nice)
    env = sokoban.BatchedSokoban(n, level_supply=supply, **kwargs)
    yield _measure(env, size, max_steps, f"pool, {when_dry}", supply, fv)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  fv = settings(flags.FLAGS)
  try:
    sizes = [tuple(int(x) for x in s.split(":")) for s in fv.sizes]
    lengths = [int(m) for m in fv.step_limits]
    if any(len(s) != 3 for s in sizes) or min(lengths) < 1:
      raise ValueError
  except ValueError as e:
    raise app.UsageError("--sizes takes room:boxes:pixels_per_cell,... and --step_limits positive "
                         f"integers; got --sizes={fv.sizes} --step_limits={fv.step_limits}") from e
  print(f"N={fv.num_envs} copies, random actions, {fv.workers} level worker(s) at nice +{fv.nice}, "
        f"{fv.seconds:g} s per row")
  print(f"{'level kind':<18} {'steps/ep':>8}  {'levels from':<13} {'steps/s':>9} {'episodes/s':>11} "
        f"{'replayed':>9}")
  for room, boxes, ppc in sizes:
    for max_steps in lengths:
      for row in rows(room, boxes, ppc, max_steps, fv):
        replayed = "" if np.isnan(row.replayed) else f"{row.replayed:.0%}"
        print(f"{row.size:<18} {row.max_steps:>8}  {row.source:<13} {row.steps_per_s:>9,.0f} "
              f"{row.episodes_per_s:>11,.0f} {replayed:>9}", flush=True)


if __name__ == "__main__":
  app.run(main)
