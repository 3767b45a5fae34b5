r"""Trains an I2A or baseline agent with IMPALA-style actors and one learner.

With no flags: a small run that visibly learns in a few minutes on 2 CPU cores: the standard
(model-free) agent with the talk's small torso on MiniPacman 'regular' (mean return 10.0 for a random
policy, about 20 after the default 500k frames): `TrainConfig()`. Every flag sets one setting of the
run, declared once in the configs (launch/config_flags.py). The paper's experiments are flag files:

  python -m launch.train                                   # The small default run.
  python -m launch.train --flagfile=launch/configs/sokoban_i2a_depth5.flags --logdir=runs/i2a5
  python -m launch.train --backend=ray --ray_address=auto ...   # Actors on a Ray cluster.

Re-running with the same --logdir resumes from the newest readable checkpoint, and refuses settings
that change the experiment (the run's config is stored as <logdir>/config.json) unless
--allow_config_change. One run at a time per logdir (a lock); Ctrl-C or SIGTERM saves a checkpoint
and exits cleanly.
"""
from absl import app
from absl import flags
from absl import logging

from i2a.training import loop
from i2a.training import stored_config
from i2a.training import train_config
from launch import common_flags
from launch import config_flags
from launch import flags_to_config

config_flags.define()
_ALLOW_CONFIG_CHANGE = flags.DEFINE_boolean(
    "allow_config_change", False, "Resume even if flags that change the experiment (task, agent, "
    "learning rate, ...) differ from the stored config; always allowed: "
    f"{', '.join(train_config.MAY_CHANGE_ON_RESUME)}.")


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  try:
    config = flags_to_config.train_config_from_flags()
    flags_to_config.check_paths(config)
  except ValueError as e:
    raise app.UsageError(str(e)) from e
  logging.info("Training config: %s", config)
  try:
    result = loop.train(config, allow_config_change=_ALLOW_CONFIG_CHANGE.value)
  except stored_config.ConfigChangeError as e:
    raise app.UsageError(str(e)) from e
  logging.info("Done: %s", result)


if __name__ == "__main__":
  common_flags.run_main(main)
