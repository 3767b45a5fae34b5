r"""Trains an environment model on data from `launch.collect`, for I2A to load frozen (paper Sec. 3.2).

  python -m launch.train_env_model --data=data/minipacman --logdir=runs/env_model_minipacman \
      --env_model=learned --steps=20000
  python -m launch.train --flagfile=launch/configs/minipacman_i2a_regular.flags \
      --env_model_checkpoint=runs/env_model_minipacman

The game, frame size and palette come from the data's manifest. Writes TensorBoard scalars (train/*,
eval/*) and an imagination picture every evaluation, checkpoints under <logdir>/checkpoints (a rerun
resumes), and at the end the model as <logdir>/env_model with its metadata env_model.json beside it
(the metadata lets loaders refuse a model of another game, frame size or frame head).
"""
import json
import os

from absl import app
from absl import flags
from absl import logging

from i2a.model_pipeline import data as model_data
from i2a.model_pipeline import fitting
from i2a.model_pipeline import training as model_training
from i2a.training import rundir

EXPORT_NAME = fitting.EXPORT_NAME
ACTION_NAMES = fitting.ACTION_NAMES
run = fitting.train_env_model  # The training run lives in the library.


def define_flags(fv: flags.FlagValues = flags.FLAGS) -> None:
  """This binary's flags; defined only when run as a program (tests import it beside launch.train)."""
  d = model_training.EnvModelTrainConfig()
  flags.DEFINE_string("data", None, "Data directory written by launch.collect.", flag_values=fv)
  flags.DEFINE_string("logdir", None, "Summaries, checkpoints and the exported model.", flag_values=fv)
  flags.DEFINE_enum("env_model", "learned", ["learned", "conv"], "'learned': the paper's model of the "
                    "game; 'conv': the talk's small SizePreservingConvNetModel.", flag_values=fv)
  flags.DEFINE_enum("frame_head", "palette", ["palette", "bernoulli"], "Frame head of 'learned' models.",
                    flag_values=fv)
  flags.DEFINE_bool("predict_reward", True, "False: the paper's frames-only Sokoban model.", flag_values=fv)
  flags.DEFINE_integer("steps", d.steps, "Adam updates in total.", flag_values=fv)
  flags.DEFINE_integer("batch_size", d.batch_size, "Transitions per update.", flag_values=fv)
  flags.DEFINE_float("learning_rate", d.learning_rate, "Adam learning rate.", flag_values=fv)
  flags.DEFINE_float("reward_weight", d.reward_weight, "Weight of the reward/event NLL.", flag_values=fv)
  flags.DEFINE_float("max_grad_norm", 0.0, "Global gradient-norm clip; 0 for none.", flag_values=fv)
  flags.DEFINE_float("eval_fraction", d.eval_fraction, "Fraction of shards held out.", flag_values=fv)
  flags.DEFINE_integer("eval_every", d.eval_every, "Updates between evaluations.", flag_values=fv)
  flags.DEFINE_integer("checkpoint_every", d.checkpoint_every, "Updates between checkpoints.",
                       flag_values=fv)
  flags.DEFINE_integer("log_every", d.log_every, "Updates between training log lines.", flag_values=fv)
  flags.DEFINE_integer("eval_transitions", d.eval_transitions, "Held-out pairs evaluated.", flag_values=fv)
  flags.DEFINE_integer("eval_windows", d.eval_windows, "Held-out k-step windows evaluated.",
                       flag_values=fv)
  flags.DEFINE_integer("rollout_depth", d.rollout_depth, "K of the k-step rollout errors.", flag_values=fv)
  flags.DEFINE_integer("seed", d.seed, "Seed of TensorFlow and of the data order.", flag_values=fv)
  flags.DEFINE_bool("skip_bad_shards", False, "Train without data shards that cannot be read (each is "
                    "named in a warning and counted) instead of stopping at the first.", flag_values=fv)


def config_from_flags(fv: flags.FlagValues = flags.FLAGS) -> model_training.EnvModelTrainConfig:
  return model_training.EnvModelTrainConfig(
      steps=fv.steps, batch_size=fv.batch_size, learning_rate=fv.learning_rate,
      reward_weight=fv.reward_weight, max_grad_norm=fv.max_grad_norm or None,
      eval_fraction=fv.eval_fraction, eval_every=fv.eval_every, checkpoint_every=fv.checkpoint_every,
      log_every=fv.log_every, eval_transitions=fv.eval_transitions, eval_windows=fv.eval_windows,
      rollout_depth=fv.rollout_depth, seed=fv.seed)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  fv = flags.FLAGS
  try:
    if not fv.data or not fv.logdir:
      raise ValueError("--data and --logdir are required.")
    config = config_from_flags(fv)
    model_data.read_manifest(fv.data)
  except ValueError as e:
    raise app.UsageError(str(e)) from e
  try:
    result = run(config, fv.data, fv.logdir, fv.env_model, fv.frame_head, fv.predict_reward,
                 skip_bad_shards=fv.skip_bad_shards)
  except (ValueError, rundir.RunDirectoryError) as e:  # Bad data or logdir: the message names them.
    raise app.UsageError(str(e)) from e
  with open(os.path.join(fv.logdir, "eval_metrics.json"), "w") as f:
    json.dump(result, f, indent=1)
  logging.info("Done: %s", json.dumps(result))


if __name__ == "__main__":
  define_flags()
  app.run(main)
