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
import dataclasses
import json
import os
import time
from typing import Optional

from absl import app
from absl import flags
from absl import logging
import numpy as np
import sonnet as snt
import tensorflow as tf

from envs import minipacman
from i2a.training import checkpointing
from i2a.model_pipeline import data as model_data
from i2a.model_pipeline import training as model_training
from i2a import factory
from i2a.model_pipeline import pictures
from i2a.training import loop
from i2a.env_models.copy_model import CopyModel

EXPORT_NAME = "env_model"  # The model is exported as <logdir>/env_model.{index,data-*} + env_model.json.
# Action names of the two games (envs/minipacman/maze.py and envs/sokoban/config.py).
ACTION_NAMES = {"minipacman": tuple(minipacman.ACTION_NAMES),
                "sokoban": ("noop", "up", "down", "left", "right")}


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


def config_from_flags(fv: flags.FlagValues = flags.FLAGS) -> model_training.EnvModelTrainConfig:
  return model_training.EnvModelTrainConfig(
      steps=fv.steps, batch_size=fv.batch_size, learning_rate=fv.learning_rate,
      reward_weight=fv.reward_weight, max_grad_norm=fv.max_grad_norm or None,
      eval_fraction=fv.eval_fraction, eval_every=fv.eval_every, checkpoint_every=fv.checkpoint_every,
      log_every=fv.log_every, eval_transitions=fv.eval_transitions, eval_windows=fv.eval_windows,
      rollout_depth=fv.rollout_depth, seed=fv.seed)


def picture(model: snt.Module, frames: np.ndarray, actions: np.ndarray, game: str):
  """The imagination grid of one held-out window: real frames, then one rollout per first action whose
  later actions are the window's real ones (so the row marked '*' replays the real actions)."""
  depth = actions.shape[0]
  imagined, _ = pictures.imagine(model, frames[0], len(ACTION_NAMES[game]), depth,
                                 later_actions=actions[1:])
  rows, labels = pictures.imagination_rows(frames, imagined, int(actions[0]), ACTION_NAMES[game])
  return pictures.grid_image(rows, labels, pictures.upscale_factor(*frames.shape[1:3]))


def _evaluate(model, eval_data, game: str) -> tuple[dict, Optional[object]]:
  pairs, (frames, actions) = eval_data
  metrics = model_training.one_step_metrics(model, pairs)
  for k, error in enumerate(model_training.rollout_errors(model, frames, actions), start=1):
    metrics[f"rollout_error/{k}"] = float(error)
  return metrics, (picture(model, frames[0], actions[0], game) if len(frames) else None)


def copy_baseline(eval_data) -> dict:
  """The same errors for the copy model (predicts 'nothing changes'), the bar a useful model must clear."""
  pairs, (frames, actions) = eval_data
  copy = CopyModel(num_reward_bins=0)
  metrics = dict(pixel_error=model_training.one_step_metrics(copy, pairs)["pixel_error"])
  for k, error in enumerate(model_training.rollout_errors(copy, frames, actions), start=1):
    metrics[f"rollout_error/{k}"] = float(error)
  return metrics


def export_model(model: snt.Module, logdir: str, metadata: dict) -> str:
  """Writes the model with `save_env_model` as <logdir>/env_model, its metadata beside it, and a
  `checkpoint` index naming it, so launch.train accepts --env_model_checkpoint=<logdir> (the directory,
  as the paper flag files give it) or =<logdir>/env_model (the prefix). Returns the prefix."""
  prefix = os.path.join(logdir, EXPORT_NAME)
  checkpointing.save_env_model(model, prefix)
  model_training.write_metadata(logdir, metadata)
  # Written last, with an atomic rename; a relative name, so the logdir can be moved.
  tf.compat.v1.train.update_checkpoint_state(logdir, EXPORT_NAME)
  return prefix


def run(config: model_training.EnvModelTrainConfig, data_dir: str, logdir: str, model_kind: str = "learned",
        frame_head: str = "palette", predict_reward: bool = True,
        model: Optional[snt.Module] = None) -> dict:
  """Trains (or resumes training) up to `config.steps` updates, then exports the model.

  Args:
    config: hyper-parameters.
    data_dir: a launch.collect data directory.
    logdir: where summaries, checkpoints and the export go.
    model_kind, frame_head, predict_reward: which model (recorded in the metadata).
    model: a model to train instead of the one `factory.build_env_model` builds for the metadata (tests
      pass tiny ones); it must be of the kind the metadata names.

  Returns:
    The last evaluation's metrics (empty without held-out shards) plus 'step' and 'export'.
  """
  tf.random.set_seed(config.seed)
  manifest = model_data.read_manifest(data_dir)
  train_names, eval_names = model_data.split_shards(manifest, config.eval_fraction)
  metadata = model_training.model_metadata(model_kind, manifest, frame_head, predict_reward)
  if model is None:
    agent_config = model_training.agent_config_for(metadata)
    game_palette = agent_config.game_spec().palette
    if np.asarray(manifest["palette"]).shape != game_palette.shape or not np.array_equal(
        manifest["palette"], game_palette):
      raise ValueError(f"The data in {data_dir!r} has the palette {manifest['palette']}, but "
                       f"{manifest['game']} now has {game_palette.tolist()}: recollect the data.")
    model = factory.build_env_model(agent_config)
  ckpt_dir = os.path.join(logdir, "checkpoints")
  if os.path.exists(os.path.join(ckpt_dir, model_training.METADATA_FILE)):
    old = model_training.load_metadata(ckpt_dir)
    changed = [k for k in metadata if old.get(k) != json.loads(json.dumps(metadata[k]))]
    if changed:
      raise ValueError(f"{logdir!r} holds a model with other {changed}; use another --logdir.")
  trainer = model_training.EnvModelTrainer(model, config)
  batches = iter(model_data.transitions_dataset(data_dir, train_names, config.batch_size, config.seed,
                                                    config.shuffle_buffer))
  trainer.build(next(batches))
  checkpointer = checkpointing.Checkpointer(ckpt_dir, 3, **trainer.trackables())
  if checkpointer.restore_latest():
    logging.info("Resumed from %s at step %d.", checkpointer.latest_path, int(trainer.step.numpy()))
  os.makedirs(ckpt_dir, exist_ok=True)
  model_training.write_metadata(ckpt_dir, metadata)
  eval_data = None
  if eval_names:
    eval_data = model_data.held_out_data(data_dir, eval_names, config.eval_transitions,
                                             config.eval_windows, config.rollout_depth)
  writer = tf.summary.create_file_writer(logdir)
  baseline = copy_baseline(eval_data) if eval_data is not None else {}
  if baseline:
    logging.info("copy-model baseline on held-out data: %s",
                 json.dumps({k: round(v, 4) for k, v in baseline.items()}))
  step, metrics, image, start = int(trainer.step.numpy()), {}, None, time.monotonic()
  start_step = step
  while step < config.steps:
    logs = trainer.update(next(batches))
    step += 1
    done = step >= config.steps
    if step % config.log_every == 0 or done:
      rate = (step - start_step) / max(time.monotonic() - start, 1e-9)
      logging.info("step %d/%d | loss %.3f (frame %.3f, reward %.3f) | %.1f steps/s", step, config.steps,
                   logs["loss"], logs["frame_loss"], logs["reward_loss"], rate)
      loop.write_scalars(writer, {f"train/{k}": v for k, v in logs.items()}, step)
    if eval_data is not None and (step % config.eval_every == 0 or done):
      metrics, image = _evaluate(model, eval_data, manifest["game"])
      logging.info("eval at step %d: %s", step, json.dumps({k: round(v, 4) for k, v in metrics.items()}))
      loop.write_scalars(writer, {f"eval/{k}": v for k, v in metrics.items()}, step)
      if image is not None:
        pictures.image_summary(writer, "eval/imagination", image, step)
    if step % config.checkpoint_every == 0 or done:
      checkpointer.save(step)
  writer.close()
  if eval_data is not None and not metrics:  # Resumed a finished run: evaluate what is exported.
    metrics, image = _evaluate(model, eval_data, manifest["game"])
  if eval_data is not None and image is not None:
    pictures.save_png(image, os.path.join(logdir, "imagination.png"))
  export = export_model(model, logdir, dict(
      metadata, steps=step, data=os.path.abspath(data_dir), train_config=dataclasses.asdict(config),
      eval_metrics=metrics, copy_baseline=baseline))
  return dict(metrics, step=step, export=export, copy_baseline=baseline)


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
  result = run(config, fv.data, fv.logdir, fv.env_model, fv.frame_head, fv.predict_reward)
  with open(os.path.join(fv.logdir, "eval_metrics.json"), "w") as f:
    json.dump(result, f, indent=1)
  logging.info("Done: %s", json.dumps(result))


if __name__ == "__main__":
  define_flags()
  app.run(main)
