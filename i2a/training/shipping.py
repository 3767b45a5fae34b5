"""Trained agents and environment models small enough to keep in the repository (`models/`).

A shipped agent is a `launch.train` logdir in miniature: its `config.json` and one checkpoint of the
agent's weights with its learner step and frame count, without the optimizer's slots (they are only
needed to resume training, and double the size). `launch.evaluate --logdir=<shipped agent>`,
`launch.collect` and `launch.imagine` read it like any run. An agent that imagines names its shipped
environment model in `env_model_checkpoint` (a path relative to the repository root, where the
binaries run). A shipped environment model is the files `launch.train_env_model` exported: the
checkpoint `env_model.*`, its metadata `env_model.json` and its held-out metrics (`eval_metrics.json`,
and a MiniPacman model's per-event `event_metrics.json`).

    ship_env_model("runs/study_sokoban_small_env_model", "models/sokoban_small/env_model")
    ship_agent("runs/study_sokoban_small_i2a_s1", "models/sokoban_small/i2a_s1",
               env_model="models/sokoban_small/env_model/env_model")
"""
import dataclasses
import glob
import os
import shutil
from typing import Optional

import tensorflow as tf

from i2a.training import checkpointing
from i2a.training import inference
from i2a.training import stored_config

ENV_MODEL_PREFIX = "env_model"  # The prefix `launch.train_env_model` exports its model under.
# Its metadata and held-out metrics; a MiniPacman model's per-event report too (issue 23), if it has one.
_ENV_MODEL_FILES = ("env_model.json", "eval_metrics.json", "event_metrics.json")


def directory_bytes(directory: str) -> int:
  """The size of every file below `directory`, in bytes."""
  return sum(os.path.getsize(os.path.join(root, name))
             for root, _, names in os.walk(directory) for name in names)


def _point_index_at(directory: str, prefix: str) -> None:
  """Writes the `checkpoint` index of `directory` naming `prefix` by its file name alone, so that the
  shipped files work wherever the repository is cloned."""
  name = os.path.basename(prefix)  # TensorFlow reads a relative name as relative to `directory`.
  with open(os.path.join(directory, "checkpoint"), "w") as f:
    f.write(f'model_checkpoint_path: "{name}"\nall_model_checkpoint_paths: "{name}"\n')


def ship_env_model(model_dir: str, out_dir: str) -> str:
  """Copies an exported environment model (checkpoint prefix `env_model`, metadata, held-out metrics)
  from `model_dir` to `out_dir`; returns the shipped checkpoint prefix.

  Args:
    model_dir: a `launch.train_env_model` logdir.
    out_dir: where the shipped model goes (created; files of the same names are replaced).

  Raises:
    ValueError: `model_dir` holds no exported model.
  """
  source = os.path.join(model_dir, ENV_MODEL_PREFIX)
  files = glob.glob(glob.escape(source) + ".*")
  if not any(f.endswith(".index") for f in files):
    raise ValueError(f"{model_dir!r} holds no exported environment model ({source}.index is missing).")
  os.makedirs(out_dir, exist_ok=True)
  for path in files + [os.path.join(model_dir, name) for name in _ENV_MODEL_FILES]:
    if os.path.exists(path) and not path.endswith(".json.tmp"):
      shutil.copy2(path, out_dir)
  prefix = os.path.join(out_dir, ENV_MODEL_PREFIX)
  _point_index_at(out_dir, prefix)
  return prefix


def ship_agent(logdir: str, out_dir: str, env_model: Optional[str] = None) -> dict:
  """Writes the newest readable checkpoint of the run in `logdir` to `out_dir`, weights only.

  Args:
    logdir: a `launch.train` logdir with its stored config.
    out_dir: where the shipped agent goes; it must not hold a checkpoint already.
    env_model: the shipped environment model's checkpoint prefix, stored as the config's
      `env_model_checkpoint` (required for an agent with a learned model, ignored otherwise).

  Returns:
    dict(path, learner_step, num_frames, bytes).

  Raises:
    ValueError: no stored config, a learned-model agent without `env_model`, or `out_dir` in use.
    checkpointing.CheckpointError: no readable checkpoint.
  """
  config = stored_config.load(logdir)
  if config is None:
    raise ValueError(f"{logdir!r} has no stored {stored_config.CONFIG_FILE}: not a launch.train run.")
  learned = config.env_model_checkpoint is not None
  if learned and env_model is None:
    raise ValueError(f"{logdir!r} imagines with a learned environment model: ship the model first and "
                     "name its checkpoint prefix.")
  checkpoints = os.path.join(out_dir, "checkpoints")
  if checkpointing.checkpoints_on_disk(checkpoints):
    raise ValueError(f"{out_dir!r} already holds a shipped checkpoint; remove it first.")
  restored = inference.restore_agent(config.agent, logdir, discount=config.learner.discount)
  learner_step = tf.Variable(restored.learner_step, dtype=tf.int64)
  num_frames = tf.Variable(restored.num_frames, dtype=tf.int64)
  # The learner's checkpoint layout minus its optimizer, under the name the Checkpointer gives.
  prefix = tf.train.Checkpoint(agent=restored.agent, learner_step=learner_step, num_frames=num_frames).write(
      os.path.join(checkpoints, f"ckpt-{restored.learner_step}"))
  _point_index_at(checkpoints, prefix)
  shipped = dataclasses.replace(config, logdir=out_dir, env_model_checkpoint=env_model if learned else None)
  stored_config.save(shipped, out_dir)
  for results in glob.glob(os.path.join(logdir, "*", "results.json")):  # launch.evaluate's tables.
    target = os.path.join(out_dir, os.path.relpath(results, logdir))
    os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.copy2(results, target)
  return dict(path=prefix, learner_step=restored.learner_step, num_frames=restored.num_frames,
              bytes=directory_bytes(out_dir))
