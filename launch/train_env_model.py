r"""Trains an environment model on data from `launch.collect`, for I2A to load frozen (paper Sec. 3.2).

  python -m launch.train_env_model --data=data/minipacman --logdir=runs/env_model_minipacman \
      --env_model=learned --steps=20000
  python -m launch.train --flagfile=launch/configs/minipacman_i2a_regular.flags \
      --env_model_checkpoint=runs/env_model_minipacman

The game, frame size and palette come from the data's manifest. Writes TensorBoard scalars (train/*,
eval/*) and an imagination picture every evaluation, checkpoints under <logdir>/checkpoints (a rerun
resumes), and at the end the model as <logdir>/env_model with its metadata env_model.json beside it
(the metadata lets loaders refuse a model of another game, frame size or frame head). The
loop is i2a/model_pipeline/loop.py; --logdir, --seed, --learning_rate and the other settings shared with
launch.train are declared in the configs (launch/config_flags.py).

MiniPacman: the final per-event report (<logdir>/event_metrics.json, issue 23) gives held-out precision
and recall at 0.5 and at the model's own per-event decision thresholds. --calibration_data=<dir> chooses
those thresholds on a separate launch.collect collection (another --seed; never the held-out shards) and
stores them in env_model.json, where launch.imagine and the gate read them; without it they are 0.5.
To (re)run only the report, on a finished model: rerun the same command (a copy of the logdir, if the
old report and export should stay) with --steps=<the steps done> and --calibration_data; no update is
made, and the report and the export are written again:

  python -m launch.train_env_model --flagfile=launch/configs/study_minipacman_events_env_model.flags \
      --logdir=runs/env_model_calibrated --steps=12000 --calibration_data=data/minipacman_calibration
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
from launch import config_flags

_D = model_training.EnvModelTrainConfig()
# This binary's defaults for shared flags: Adam's 7e-4, no gradient clipping, the 'learned' model, and
# no default --logdir (required).
DEFAULTS = dict(learning_rate=_D.learning_rate, max_grad_norm=_D.max_grad_norm, env_model="learned", logdir=None,
                steps=_D.steps)
config_flags.define("logdir", "env_model", "env_model_size", "predict_reward", "learning_rate", "max_grad_norm",
                    "seed")
common_flags.define("steps")
flags.DEFINE_integer("model_batch_size", _D.batch_size, "Transitions per environment-model update.")
flags.DEFINE_integer("model_rollout_depth", _D.rollout_depth, "K of the k-step rollout errors evaluated.")
flags.DEFINE_string("data", None, "Data directory written by launch.collect.")
flags.DEFINE_string("calibration_data", None, "MiniPacman: a separate launch.collect directory (another "
                    "--seed) on which each event's decision threshold is chosen, maximising min(precision, "
                    "recall); stored with the exported model. Unset: 0.5 for every event.")
flags.DEFINE_enum("frame_head", "palette", ["palette", "bernoulli"], "Frame head of 'learned' models.")
flags.DEFINE_float("reward_weight", _D.reward_weight, "Weight of the reward/event NLL.")
flags.DEFINE_integer("rare_reward_repeats", _D.rare_reward_repeats, "Stream each pair whose reward is "
                     "not its shard's most common one this many times (Sokoban's rare solving step).")
flags.DEFINE_list("event_repeats", None, "MiniPacman: one count per event (step, food, pill, ghost, "
                  "death), e.g. 1,1,4,20,8: each pair is streamed as often as the largest count of its events.")
flags.DEFINE_integer("event_eval_pairs", _D.event_eval_pairs, "Held-out pairs of the final per-event "
                     "report (MiniPacman; written to <logdir>/event_metrics.json).")
flags.DEFINE_integer("event_eval_windows", _D.event_eval_windows, "Held-out k-step windows of that report.")
flags.DEFINE_float("eval_fraction", _D.eval_fraction, "Fraction of shards held out.")
flags.DEFINE_integer("eval_every", _D.eval_every, "Updates between evaluations.")
flags.DEFINE_integer("checkpoint_every", _D.checkpoint_every, "Updates between checkpoints.")
flags.DEFINE_integer("log_every", _D.log_every, "Updates between training log lines.")
flags.DEFINE_integer("eval_transitions", _D.eval_transitions, "Held-out pairs evaluated.")
flags.DEFINE_integer("eval_windows", _D.eval_windows, "Held-out k-step windows evaluated.")
flags.DEFINE_bool("skip_bad_shards", False, "Train without data shards that cannot be read (each is named "
                  "in a warning and counted) instead of stopping at the first.")


def _counts(items):
  """--event_repeats' strings -> a tuple of ints (None stays None); ValueError naming the flag."""
  try:
    return None if items is None else tuple(int(x) for x in items)
  except ValueError as e:
    raise ValueError(f"--event_repeats={','.join(items)} must be whole numbers: {e}") from e


def config_from_flags(fv: flags.FlagValues = flags.FLAGS) -> model_training.EnvModelTrainConfig:
  """The training config; the shared flags not given take this binary's DEFAULTS."""
  own = settings(fv)
  return model_training.EnvModelTrainConfig(
      steps=own.steps, batch_size=fv.model_batch_size, learning_rate=own.learning_rate,
      reward_weight=fv.reward_weight,
      rare_reward_repeats=fv.rare_reward_repeats, event_repeats=_counts(fv.event_repeats),
      event_eval_pairs=fv.event_eval_pairs, event_eval_windows=fv.event_eval_windows,
      max_grad_norm=own.max_grad_norm, eval_fraction=fv.eval_fraction, eval_every=fv.eval_every,
      checkpoint_every=fv.checkpoint_every, log_every=fv.log_every, eval_transitions=fv.eval_transitions,
      eval_windows=fv.eval_windows, rollout_depth=fv.model_rollout_depth, seed=fv.seed)


def settings(fv: flags.FlagValues):
  """The shared flags this binary reads, with its DEFAULTS for those not given."""
  return common_flags.settings(fv, DEFAULTS, (*DEFAULTS, "seed"))


def model_kind(fv: flags.FlagValues = flags.FLAGS) -> str:
  """--env_model: 'learned' (the paper's model of the game; the default) or 'conv' (the talk's)."""
  kind = settings(fv).env_model
  if kind not in ("learned", "conv"):
    raise ValueError(f"--env_model={kind}: launch.train_env_model trains 'learned' (the paper's model) or "
                     "'conv' (the talk's small model); the copy model has nothing to train.")
  return kind


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  fv = flags.FLAGS
  try:
    logdir = settings(fv).logdir
    if not fv.data or not logdir:
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
    result = loop.train_env_model(config, fv.data, logdir, kind, fv.frame_head, fv.predict_reward,
                                  skip_bad_shards=fv.skip_bad_shards,
                                  model_size=fv.env_model_size, calibration_dir=fv.calibration_data)
  except (ValueError, rundir.RunDirectoryError) as e:  # Bad data or logdir: the message names them.
    raise app.UsageError(str(e)) from e
  with open(os.path.join(logdir, "eval_metrics.json"), "w") as f:
    json.dump(result, f, indent=1)
  logging.info("Done: %s", json.dumps(result))


if __name__ == "__main__":
  common_flags.run_main(main)
