"""A pretrained environment model on disk as the training system reads it: the metadata beside its
weights (`env_model.json`, written by `i2a.model_pipeline.export`), and the check that refuses a model
of another game, frame size, action set, frame head or size before I2A loads it frozen (paper Sec. 3.2).

Here rather than in the pipeline so that the training system needs nothing from the pipeline: the
pipeline writes what this module reads.
"""
import json
import os

import numpy as np

from i2a import configs
from i2a import games

METADATA_FILE = "env_model.json"


def metadata_path(checkpoint_path: str) -> str:
  """Where the metadata of a model checkpoint (a prefix or a directory of checkpoints) lives."""
  directory = checkpoint_path if os.path.isdir(checkpoint_path) else os.path.dirname(checkpoint_path)
  return os.path.join(directory, METADATA_FILE)


def load_metadata(checkpoint_path: str) -> dict:
  """The metadata beside a model checkpoint; ValueError naming the file if it is missing or bad."""
  path = metadata_path(checkpoint_path)
  try:
    with open(path) as f:
      return json.load(f)
  except FileNotFoundError as error:
    raise ValueError(f"No environment-model metadata {path} beside {checkpoint_path!r}: models written "
                     "by `python -m launch.train_env_model` have one.") from error
  except (OSError, json.JSONDecodeError) as error:
    raise ValueError(f"Cannot read environment-model metadata {path}: {error}") from error


def agent_config_for(metadata: dict, **overrides) -> configs.AgentConfig:
  """An I2A AgentConfig whose `build_env_model` builds the model the metadata describes."""
  fields = dict(game=metadata["game"], variant="i2a", env_model=metadata["model_kind"],
                frame_head=metadata["frame_head"], predict_reward=metadata["predict_reward"],
                env_model_size=_model_size(metadata))
  fields.update(games.Geometry(metadata["game"], metadata.get("task"), metadata.get("room_size"),
                               metadata.get("pixels_per_cell")).fields())
  return configs.AgentConfig(**dict(fields, **overrides))


def _model_size(metadata: dict) -> str:
  return metadata.get("model_size") or "good"  # Exports older than the poor model are good ones.


def check_env_model_compatible(metadata: dict, config: configs.AgentConfig,
                               source: str = "the environment model") -> None:
  """Raises ValueError listing every way the model of `metadata` does not fit the agent of `config`.

  Checked: the agent has a learned model ('learned' or 'conv') of the same kind; game; frame shape;
  number of actions; frame head and palette; Sokoban's pixels per cell, reward prediction and model
  size (a poor model where a good one is expected, or the reverse, paper Fig. 5); and for
  the talk's 'conv' model on MiniPacman, the task (it predicts that task's rewards, not events). A
  paper MiniPacman model predicts events, so it serves every task (paper Sec. 5).
  """
  config = config.resolved()
  if not config.uses_imagination or config.env_model not in ("learned", "conv"):
    raise ValueError(f"{source}: this agent (variant {config.variant!r}, env_model {config.env_model!r}) "
                     "has no learned environment model to load.")
  spec = config.game_spec()
  want = dict(game=config.game, model_kind=config.env_model, frame_shape=[spec.height, spec.width, 3],
              num_actions=spec.num_actions)
  if config.env_model == "learned":
    want["frame_head"] = config.frame_head
  if config.game == "sokoban":
    want.update(pixels_per_cell=config.pixels_per_cell, predict_reward=config.predict_reward)
    if config.env_model == "learned":
      want["model_size"] = config.env_model_size
  elif config.env_model == "conv":
    want["task"] = config.task
  got = dict(metadata, model_size=_model_size(metadata))
  problems = [f"{key} is {got.get(key)!r} but the agent needs {value!r}"
              for key, value in want.items() if got.get(key) != value]
  if config.env_model == "learned" and config.frame_head == "palette" and not problems:
    stored = np.asarray(metadata.get("palette") or [], np.float64)
    if stored.shape != spec.palette.shape or not np.allclose(stored, spec.palette):
      problems.append(f"its palette {metadata.get('palette')} differs from the game's "
                      f"{spec.palette.tolist()}")
  if problems:
    raise ValueError(f"{source} was trained for another setting and cannot be used: "
                     f"{'; '.join(problems)}.")


def check_checkpoint_compatible(checkpoint_path: str, config: configs.AgentConfig) -> dict:
  """`check_env_model_compatible` on the metadata beside `checkpoint_path`; returns the metadata."""
  metadata = load_metadata(checkpoint_path)
  check_env_model_compatible(metadata, config, source=f"The environment model {checkpoint_path!r}")
  return metadata
