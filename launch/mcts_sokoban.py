r"""MCTS with the perfect model on Sokoban: solve rate against simulator steps per level (paper Table 1).

  python -m launch.mcts_sokoban --flagfile=launch/configs/mcts_sokoban_25k.flags    # Table 1, 25k steps.
  python -m launch.mcts_sokoban --room_size=6 --num_boxes=1 --num_levels=20 --budget=2000 --value=none

Levels are generated (seeded) or read from Boxoban files (--levels). Each level is searched with UCT over
the real simulator (i2a/planning/mcts.py) and the played moves are replayed in a fresh environment to
check the outcome. --value=net scores positions with a value network trained by launch.train_value_net.
Prints and writes (--output_dir, JSON) the fraction solved, mean simulator steps per level and time per step.
"""
import json
import os
import time
import types

from absl import app
from absl import flags
from absl import logging
import numpy as np

from envs import sokoban
from envs.sokoban import generator
from i2a.planning import mcts
from i2a.planning import value_net
from launch import common_flags
from launch import config_flags


config_flags.define("room_size", "num_boxes", "max_steps", "levels", "discount", "seed")
common_flags.define("num_levels", "output_dir")
flags.DEFINE_integer("budget", 25_000, "Simulator steps per level (paper Table 1: 25000, 100000).", lower_bound=1)
flags.DEFINE_integer("steps_per_move", 0, "Simulator steps between played moves; 0 plans from the start "
                     "until solved or out of budget.", lower_bound=0)
flags.DEFINE_float("exploration", 1.0, "UCT constant (App. D.3: 1).", lower_bound=0.0)
flags.DEFINE_enum("value", "none", ["none", "net"], "Leaf value: none (0) or a value network.")
flags.DEFINE_string("value_checkpoint", None, "Directory written by launch.train_value_net.")
# This binary's defaults for shared flags: the paper's rooms and sprites, and its 250 test levels (App. D.3).
DEFAULTS = dict(room_size=10, num_boxes=4, num_levels=250)


def settings(fv: flags.FlagValues) -> types.SimpleNamespace:
  """The flags this binary reads, with its own defaults (DEFAULTS) for the shared ones not given."""
  names = ("room_size", "num_boxes", "max_steps", "num_levels", "levels", "discount", "seed", "output_dir", "budget",
           "steps_per_move", "exploration", "value", "value_checkpoint")
  return common_flags.settings(fv, DEFAULTS, names)


def _levels(fv: types.SimpleNamespace) -> np.ndarray:
  size, boxes, n = fv.room_size, fv.num_boxes, fv.num_levels
  if fv.levels:
    from envs.sokoban import config as sokoban_config  # pylint: disable=g-import-not-at-top
    levels = sokoban_config.validate_levels(sokoban.load_levels(fv.levels), size, size, boxes,
                                            source=f"levels in {fv.levels}")
    return levels[:n]
  rng = np.random.default_rng(fv.seed)
  return np.stack([generator.generate_level(rng, width=size, height=size, num_boxes=boxes)
                   for _ in range(n)])


def run(fv: flags.FlagValues) -> dict:
  """Plays the levels the flags name; returns the results. ValueError for bad flags or files."""
  fv = settings(fv)
  if fv.value == "net" and not fv.value_checkpoint:
    raise ValueError("--value=net needs --value_checkpoint=DIR (from python -m launch.train_value_net)")
  if fv.room_size < 3 or 2 * fv.num_boxes + 1 > (fv.room_size - 2) ** 2:
    raise ValueError(f"--num_boxes={fv.num_boxes} boxes do not fit in a {fv.room_size}x{fv.room_size} room")
  config = mcts.MCTSConfig(budget=fv.budget, steps_per_move=fv.steps_per_move or None,
                           exploration=fv.exploration, discount=fv.discount)
  value_fn = mcts.zero_value
  if fv.value == "net":
    net = value_net.load(fv.value_checkpoint, fv.room_size)
    value_fn = value_net.NetValue(net, fv.room_size, fv.room_size)
  levels = _levels(fv)
  env = sokoban.Sokoban(fv.room_size, fv.room_size, fv.num_boxes, fv.max_steps, observation="symbolic")
  solved, steps, seconds = [], [], 0.0
  for i, level in enumerate(levels):
    start = time.perf_counter()
    result = mcts.MCTS(env, config, value_fn).solve(level)
    seconds += time.perf_counter() - start
    solved.append(mcts.replay_solves(level, result.actions, fv.max_steps))  # The real environment judges.
    steps.append(result.simulator_steps)
    logging.info("level %d: solved=%s simulator_steps=%d moves=%d nodes=%d", i, solved[-1],
                 result.simulator_steps, len(result.actions), result.nodes)
  return dict(room_size=fv.room_size, num_boxes=fv.num_boxes, levels=len(levels), budget=fv.budget,
              steps_per_move=fv.steps_per_move, value=fv.value, solved=int(np.sum(solved)),
              fraction_solved=float(np.mean(solved)), mean_simulator_steps=float(np.mean(steps)),
              microseconds_per_simulator_step=1e6 * seconds / max(1, int(np.sum(steps))))


def write(results: dict, path: str) -> None:
  """Writes the results as JSON to `path` (creating its directory)."""
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  with open(path, "w") as f:
    json.dump(results, f, indent=2)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  try:
    results = run(flags.FLAGS)
  except (ValueError, OSError) as e:
    raise app.UsageError(str(e)) from e
  print(json.dumps(results))
  if flags.FLAGS.output_dir:
    write(results, flags.FLAGS.output_dir)


if __name__ == "__main__":
  common_flags.run_main(main)
