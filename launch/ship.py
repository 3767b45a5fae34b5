r"""Copies a trained environment model or agent into the repository's models/ folder (issue 20).

  python -m launch.ship --env_model_run=runs/study_sokoban_small_env_model \
      --output_dir=models/sokoban_small/env_model
  python -m launch.ship --run=runs/study_sokoban_small_i2a_s1 --output_dir=models/sokoban_small/i2a_s1 \
      --shipped_env_model=models/sokoban_small/env_model/env_model

An agent ships as its config.json and one weights-only checkpoint (no optimizer slots) with its
launch.evaluate results, so `launch.evaluate --logdir=<out>` works on a fresh clone
(i2a/training/shipping.py). Prints the shipped size.
"""
from absl import app
from absl import flags
from absl import logging

from i2a.training import checkpointing
from i2a.training import shipping
from launch import common_flags

common_flags.define("output_dir")  # Where the shipped files go.
_RUN = flags.DEFINE_string("run", None, "A launch.train logdir to ship (weights, config, evaluations).")
_ENV_MODEL_RUN = flags.DEFINE_string("env_model_run", None, "A launch.train_env_model logdir to ship.")
_ENV_MODEL = flags.DEFINE_string("shipped_env_model", None, "With --run: the shipped environment model's "
                                 "checkpoint prefix, which the shipped config names.")


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  out = flags.FLAGS.output_dir
  if not out or (_RUN.value is None) == (_ENV_MODEL_RUN.value is None):
    raise app.UsageError("Give --output_dir and exactly one of --run (an agent) or --env_model_run (a model).")
  try:
    if _ENV_MODEL_RUN.value:
      prefix = shipping.ship_env_model(_ENV_MODEL_RUN.value, out)
      logging.info("Shipped %s: %.2f MB.", prefix, shipping.directory_bytes(out) / 2**20)
      return
    shipped = shipping.ship_agent(_RUN.value, out, _ENV_MODEL.value)
  except (ValueError, checkpointing.CheckpointError) as e:
    raise app.UsageError(str(e)) from e
  logging.info("Shipped %s (learner step %d, %d frames): %.2f MB.", shipped["path"], shipped["learner_step"],
               shipped["num_frames"], shipped["bytes"] / 2**20)


if __name__ == "__main__":
  common_flags.run_main(main)
