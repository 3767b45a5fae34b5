r"""Trains an environment model on data from `launch.collect`, for I2A to load frozen (paper Sec. 3.2).

  python -m launch.train_env_model --data=data/minipacman --logdir=runs/env_model_minipacman \
      --env_model=learned --steps=20000
  python -m launch.train --flagfile=launch/configs/minipacman_i2a_regular.flags \
      --env_model_checkpoint=runs/env_model_minipacman

The game, frame size and palette come from the data's manifest. Writes TensorBoard scalars (train/*,
eval/*) and an imagination picture every evaluation, checkpoints under <logdir>/checkpoints (a rerun
resumes), and at the end the model as <logdir>/env_model with its metadata env_model.json beside it
(the metadata lets loaders refuse a model of another game, frame size or frame head). The
loop is i2a/model_pipeline/loop.py; --logdir, --seed, --batch_size and the other shared names are
defined in launch/common_flags.py.
"""
import json
import os

from absl import app
from absl import flags
from absl import logging

from i2a.model_pipeline import data as model_data
from i2a.model_pipeline import loop
from i2a.model_pipeline import training as model_training
from i2a.training import rundir
from launch import common_flags

_D = model_training.EnvModelTrainConfig()
common_flags.declare_key_flags(("logdir", "env_model", "env_model_size", "predict_reward", "batch_size",
                                "learning_rate", "max_grad_norm", "rollout_depth", "seed", "steps"))
flags.DEFINE_string("data", None, "Data directory written by launch.collect.")
flags.DEFINE_enum("frame_head", "palette", ["palette", "bernoulli"], "Frame head of 'learned' models.")
flags.DEFINE_float("reward_weight", _D.reward_weight, "Weight of the reward/event NLL.")
flags.DEFINE_integer("rare_reward_repeats", _D.rare_reward_repeats, "Stream each pair whose reward is "
                     "not its shard's most common one this many times (Sokoban's rare solving step).")
flags.DEFINE_float("eval_fraction", _D.eval_fraction, "Fraction of shards held out.")
flags.DEFINE_integer("eval_every", _D.eval_every, "Updates between evaluations.")
flags.DEFINE_integer("checkpoint_every", _D.checkpoint_every, "Updates between checkpoints.")
flags.DEFINE_integer("log_every", _D.log_every, "Updates between training log lines.")
flags.DEFINE_integer("eval_transitions", _D.eval_transitions, "Held-out pairs evaluated.")
flags.DEFINE_integer("eval_windows", _D.eval_windows, "Held-out k-step windows evaluated.")
flags.DEFINE_bool("skip_bad_shards", False, "Train without data shards that cannot be read (each is named "
                  "in a warning and counted) instead of stopping at the first.")


def config_from_flags(fv: flags.FlagValues = flags.FLAGS) -> model_training.EnvModelTrainConfig:
  """The training config; the shared flags left unset take this binary's defaults (batch 64, Adam 7e-4,
  no clipping)."""
  return model_training.EnvModelTrainConfig(
      steps=common_flags.value_or(fv, "steps", _D.steps),
      batch_size=common_flags.value_or(fv, "batch_size", _D.batch_size),
      learning_rate=common_flags.value_or(fv, "learning_rate", _D.learning_rate), reward_weight=fv.reward_weight,
      rare_reward_repeats=fv.rare_reward_repeats,
      max_grad_norm=fv.max_grad_norm or None, eval_fraction=fv.eval_fraction, eval_every=fv.eval_every,
      checkpoint_every=fv.checkpoint_every, log_every=fv.log_every, eval_transitions=fv.eval_transitions,
      eval_windows=fv.eval_windows, rollout_depth=fv.rollout_depth, seed=fv.seed)


def model_kind(fv: flags.FlagValues = flags.FLAGS) -> str:
  """--env_model: 'learned' (the paper's model of the game; the default) or 'conv' (the talk's)."""
  kind = fv.env_model or "learned"
  if kind not in ("learned", "conv"):
    raise ValueError(f"--env_model={kind}: launch.train_env_model trains 'learned' (the paper's model) or "
                     "'conv' (the talk's small model); the copy model has nothing to train.")
  return kind


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  fv = flags.FLAGS
  try:
    if not fv.data or not fv.logdir:
      raise ValueError("--data and --logdir are required.")
    config = config_from_flags(fv)
    kind = model_kind(fv)
    manifest = model_data.read_manifest(fv.data)
    if fv.env_model_size != "good" and (kind != "learned" or manifest["game"] != "sokoban"):
      raise ValueError(f"--env_model_size={fv.env_model_size} is a Sokoban model (paper Fig. 5's weak one or "
                       f"the small-grid one); this is --env_model={kind} on {manifest['game']} data.")
  except ValueError as e:
    raise app.UsageError(str(e)) from e
  try:
    result = loop.train_env_model(config, fv.data, fv.logdir, kind, fv.frame_head, fv.predict_reward,
                                  skip_bad_shards=fv.skip_bad_shards,
                                  model_size=fv.env_model_size)
  except (ValueError, rundir.RunDirectoryError) as e:  # Bad data or logdir: the message names them.
    raise app.UsageError(str(e)) from e
  with open(os.path.join(fv.logdir, "eval_metrics.json"), "w") as f:
    json.dump(result, f, indent=1)
  logging.info("Done: %s", json.dumps(result))


if __name__ == "__main__":
  common_flags.run_main(main)
