r"""Trains an I2A or baseline agent with IMPALA-style actors and one learner.

With no flags: a small run that visibly learns in a few minutes on 2 CPU cores: the standard
(model-free) agent with the talk's small torso on MiniPacman 'regular' (mean return 7.8 for a random
policy, about 16 after the default 500k frames). The shared experiment flags are in
launch/common_flags.py. The paper's experiments are flag files:

  python -m launch.train                                   # The small default run.
  python -m launch.train --flagfile=launch/configs/sokoban_i2a_depth5.flags --logdir=runs/i2a5
  python -m launch.train --backend=ray --ray_address=auto ...   # Actors on a Ray cluster.

Re-running with the same --logdir resumes from the newest checkpoint.
"""
from absl import app
from absl import logging

from i2a.training import loop
from launch import common_flags

common_flags.declare_key_flags(common_flags.EXPERIMENT_FLAGS)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  try:
    config = common_flags.train_config_from_flags()
    common_flags.check_paths(config)
  except ValueError as e:
    raise app.UsageError(str(e)) from e
  logging.info("Training config: %s", config)
  result = loop.train(config)
  logging.info("Done: %s", result)


if __name__ == "__main__":
  app.run(main)
