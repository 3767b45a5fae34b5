"""Writes a trained environment model: its weights and the metadata beside them (`env_model.json`), which
`i2a.training.env_model_metadata` reads to refuse a model of another game, frame size, action set or
frame head before I2A loads it frozen (paper Sec. 3.2); `load_model` reads one back for pictures."""
import json
import os

import sonnet as snt
import tensorflow as tf

from i2a import factory
from i2a import games
from i2a.model_pipeline import data as model_data
from i2a.training import checkpointing
from i2a.training import env_model_metadata
from i2a.training import rundir

EXPORT_NAME = "env_model"  # The model is exported as <logdir>/env_model.{index,data-*} + env_model.json.


def model_metadata(model_kind: str, data_manifest: dict, frame_head: str, predict_reward: bool = True,
                   model_size: str = "good", **extra) -> dict:
  """The JSON metadata saved beside a trained model (read by `env_model_metadata`); `model_size`
  is 'good' or 'poor' (the weak Sokoban model of paper Fig. 5)."""
  geometry = model_data.manifest_geometry(data_manifest)
  return dict(game=geometry.game, task=geometry.task, model_kind=model_kind, model_size=model_size,
              frame_head="bernoulli" if model_kind == "conv" else frame_head,
              frame_shape=list(data_manifest["frame_shape"]), num_actions=data_manifest["num_actions"],
              palette=data_manifest["palette"], predict_reward=bool(predict_reward),
              room_size=geometry.room_size, pixels_per_cell=geometry.pixels_per_cell, **extra)


def write_metadata(directory: str, metadata: dict) -> None:
  rundir.atomic_write(os.path.join(directory, env_model_metadata.METADATA_FILE), json.dumps(metadata, indent=1).encode())


def export_model(model: snt.Module, logdir: str, metadata: dict) -> str:
  """Writes the model with `save_env_model` as <logdir>/env_model, its metadata beside it, and a
  `checkpoint` index naming it, so launch.train accepts --env_model_checkpoint=<logdir> (the directory,
  as the paper flag files give it) or =<logdir>/env_model (the prefix). Returns the prefix."""
  prefix = os.path.join(logdir, EXPORT_NAME)
  checkpointing.save_env_model(model, prefix)
  write_metadata(logdir, metadata)
  # Written last, with an atomic rename; a relative name, so the logdir can be moved. The directory is
  # made absolute because TF relativizes the name against a relative directory wrongly ("../../env_model").
  tf.compat.v1.train.update_checkpoint_state(os.path.abspath(logdir), EXPORT_NAME)
  return prefix


def load_model(path: str, geometry: games.Geometry) -> snt.Module:
  """The environment model at `path` (prefix or directory), checked against the game of `geometry`."""
  metadata = env_model_metadata.load_metadata(path)
  config = env_model_metadata.agent_config_for(dict(metadata, **geometry.fields()))
  env_model_metadata.check_env_model_compatible(metadata, config, source=f"The environment model {path!r}")
  model = factory.build_env_model(config)
  spec = config.game_spec()
  model(tf.zeros([1, spec.height, spec.width, 3]), tf.zeros([1], tf.int32))  # Creates the variables.
  checkpointing.load_env_model(model, path)
  return model
