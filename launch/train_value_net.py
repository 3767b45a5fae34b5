r"""Trains the MCTS value network (paper App. D.3) by regression on solver-labelled Sokoban positions.

  python -m launch.train_value_net --flagfile=launch/configs/mcts_value_net.flags
  python -m launch.train_value_net --room_size=6 --num_boxes=1 --num_levels=200 --steps=300 --output_dir=/tmp/v

The paper regresses on returns of a model-free agent; here positions are labelled with the return of
optimal play from the exact solver (i2a/planning/value_training.py). Prints the held-out squared error
beside that of predicting the mean return, and writes the network to --output_dir for launch.mcts_sokoban.
"""
import json
import time
import types

from absl import app
from absl import flags
import numpy as np
import tensorflow as tf

from i2a.planning import value_net
from i2a.planning import value_training
from launch import common_flags
from launch import config_flags


config_flags.define("room_size", "num_boxes", "learning_rate", "discount", "seed")
common_flags.define("num_levels", "steps", "output_dir")
flags.DEFINE_integer("value_batch_size", 128, "Levels per value-network update.")
# The shared flags' defaults for this binary (use the MCTS --discount for the return targets).
DEFAULTS = dict(room_size=10, num_boxes=4, num_levels=2000, steps=2000, learning_rate=1e-3)


def settings(fv: flags.FlagValues) -> types.SimpleNamespace:
  """The flags this binary reads, with its own defaults (DEFAULTS) for the shared ones not given."""
  names = ("room_size", "num_boxes", "num_levels", "steps", "value_batch_size", "learning_rate", "discount",
           "seed", "output_dir")
  return common_flags.settings(fv, DEFAULTS, names)


def run(fv: flags.FlagValues) -> dict:
  """Builds the data, fits the network, saves it; returns the figures. ValueError for bad flags."""
  fv = settings(fv)
  if fv.num_levels < 2 or min(fv.steps, fv.value_batch_size) < 1 or fv.learning_rate <= 0:
    raise ValueError("--num_levels must be >= 2, --steps and --value_batch_size >= 1, --learning_rate > 0")
  if not fv.output_dir:
    raise ValueError("--output_dir must name the directory to write the value network to")
  if 2 * fv.num_boxes + 1 > (fv.room_size - 2) ** 2:
    raise ValueError(f"--num_boxes={fv.num_boxes} boxes do not fit in a {fv.room_size}x{fv.room_size} room")
  tf.random.set_seed(fv.seed)
  rng = np.random.default_rng(fv.seed)
  start = time.perf_counter()
  num_test = max(1, fv.num_levels // 10)
  train_x, train_y = value_training.solver_dataset(rng, fv.num_levels - num_test, fv.room_size,
                                                   fv.num_boxes, fv.discount)
  test_x, test_y = value_training.solver_dataset(rng, num_test, fv.room_size, fv.num_boxes, fv.discount)
  data_seconds = time.perf_counter() - start
  net = value_net.ValueNet()
  start = time.perf_counter()
  losses = value_training.fit(net, train_x, train_y, fv.steps, fv.value_batch_size, fv.learning_rate, fv.seed)
  fit_seconds = time.perf_counter() - start
  test_mse = float(np.mean((net(tf.constant(test_x)).numpy() - test_y) ** 2))
  value_net.save(net, fv.output_dir, fv.room_size)
  return dict(train_positions=len(train_x), test_positions=len(test_x), first_loss=losses[0],
              last_loss=float(np.mean(losses[-20:])), test_mse=test_mse,
              test_mse_of_mean=float(np.mean((test_y - train_y.mean()) ** 2)),
              data_seconds=data_seconds, milliseconds_per_step=1e3 * fit_seconds / fv.steps, output_dir=fv.output_dir)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  try:
    results = run(flags.FLAGS)
  except (ValueError, OSError) as e:
    raise app.UsageError(str(e)) from e
  print(json.dumps(results))


if __name__ == "__main__":
  common_flags.run_main(main)
