"""Fitting an environment model to collected data, and measuring it the way I2A uses it.

The paper pretrains the model on a partially trained model-free agent's trajectories by the negative
log-likelihood of next frame and reward (l_model), then freezes it in I2A (spec 2.1, 3; paper Sec. 3.2).
The optimiser is not given; we use Adam. Held-out metrics: one-step pixel error, reward or event
accuracy, and the error of k-step open-loop rollouts (the model fed its own frames with the real
actions), which is what I2A consumes. The metadata beside a model (`env_model.json`) lets
`check_env_model_compatible` refuse a model of another game, frame size, action set or frame head.
"""
import dataclasses
import json
import os
from typing import Optional

import numpy as np
import sonnet as snt
import tensorflow as tf

from i2a import configs
from i2a.model_pipeline import data as model_data
from i2a.env_models import frame_heads
from i2a.env_models import model_losses
from i2a.env_models.copy_model import CopyModel
from i2a.env_models.minipacman_model import EVENTS, MiniPacmanEnvModel
from i2a.env_models.small_model import SizePreservingConvNetModel
from i2a.env_models.sokoban_model import SokobanEnvModel

METADATA_FILE = "env_model.json"


@dataclasses.dataclass(frozen=True)
class EnvModelTrainConfig:
  """Hyper-parameters of environment-model training (the paper gives none: spec 2.1 'not recovered').

  Attributes:
    steps: Adam updates in total (a resumed run continues up to this count).
    batch_size: transitions per update.
    learning_rate: Adam step size; 7e-4 as a third-party fit of these models (spec 3, [3P]).
    reward_weight: weight of the reward/event NLL; 1 keeps l_model a joint likelihood (spec 2.1).
    max_grad_norm: global-norm gradient clipping; None for none.
    eval_fraction: fraction of shards held out for evaluation (`model_data.split_shards`).
    eval_every, checkpoint_every, log_every: periods in updates.
    eval_transitions, eval_windows: held-out pairs and k-step windows evaluated (the first ones).
    rollout_depth: K, open-loop rollout errors are reported for k = 1..K (I2A's depth is 5, spec 1.1).
    shuffle_buffer: transitions in the tf.data shuffle buffer.
    seed: seeds TensorFlow and the data order.
  """
  steps: int = 20_000
  batch_size: int = 64
  learning_rate: float = 7e-4
  reward_weight: float = 1.0
  max_grad_norm: Optional[float] = None
  eval_fraction: float = 0.1
  eval_every: int = 1000
  checkpoint_every: int = 1000
  log_every: int = 100
  eval_transitions: int = 4096
  eval_windows: int = 1024
  rollout_depth: int = 5
  shuffle_buffer: int = 20_000
  seed: int = 0

  def __post_init__(self):
    for name in ("steps", "batch_size", "eval_every", "checkpoint_every", "log_every", "eval_transitions",
                 "eval_windows", "rollout_depth", "shuffle_buffer"):
      if getattr(self, name) < 1:
        raise ValueError(f"EnvModelTrainConfig.{name} must be >= 1, got {getattr(self, name)}.")
    for name, ok in (("learning_rate", self.learning_rate > 0), ("reward_weight", self.reward_weight >= 0),
                     ("max_grad_norm", self.max_grad_norm is None or self.max_grad_norm > 0),
                     ("eval_fraction", 0.0 <= self.eval_fraction < 1.0)):
      if not ok:
        raise ValueError(f"EnvModelTrainConfig.{name}={getattr(self, name)} is out of range (learning_rate "
                         "> 0, reward_weight >= 0, max_grad_norm > 0 or None, 0 <= eval_fraction < 1).")


@dataclasses.dataclass(frozen=True)
class ModelTargets:
  """Besides the frame, a model predicts 'events' (MiniPacman), 'bins' (a categorical reward over
  `reward_bins`) or 'none' (the frames-only model)."""
  frame_head: frame_heads.FrameHead
  reward: str
  reward_bins: Optional[tuple] = None


def model_targets(model: snt.Module) -> ModelTargets:
  """The targets of one of the project's learned environment models."""
  if isinstance(model, MiniPacmanEnvModel):
    return ModelTargets(model.frame_head, "events")
  if isinstance(model, SokobanEnvModel):
    bins = tuple(model.config.reward_bins)
    return ModelTargets(model.frame_head, "bins", bins) if model.config.predict_reward else ModelTargets(
        model.frame_head, "none")
  if isinstance(model, SizePreservingConvNetModel):  # The talk's model: Bernoulli frames, reward bins.
    return ModelTargets(frame_heads.FrameHead("bernoulli"), "bins",
                        tuple(float(b) for b in model.reward_bins.numpy()))
  raise ValueError(f"Cannot train {type(model).__name__}: not a learned environment model.")


def _float_frames(frames) -> tf.Tensor:
  return tf.cast(frames, tf.float32) / 255.0  # uint8 -> float32 in [0, 1], as the agents see them.


class EnvModelTrainer:
  """Owns the model's optimiser and update counter, and the compiled update.

  Call `build(batch)` once before restoring a checkpoint (it creates every variable).
  """

  def __init__(self, model: snt.Module, config: EnvModelTrainConfig):
    self.model, self.config = model, config
    self.targets = model_targets(model)
    self.optimizer = snt.optimizers.Adam(config.learning_rate)
    self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
    self._update = tf.function(self._update_fn)

  def trackables(self) -> dict:  # What a checkpoint holds to resume.
    return dict(env_model=self.model, optimizer=self.optimizer, step=self.step)

  def build(self, batch: dict) -> None:
    """Creates the model's and Adam's variables (a zero update; Adam's step count is reset)."""
    self.model.logits(_float_frames(batch["frame"][:1]), tf.cast(batch["action"][:1], tf.int32))
    variables = self.model.trainable_variables
    self.optimizer.apply([tf.zeros_like(v) for v in variables], variables)
    self.optimizer.step.assign(0)

  def loss(self, batch: dict) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """Batch means of l_model, its frame term and its reward term (see `model_losses.env_model_loss`)."""
    logits = self.model.logits(_float_frames(batch["frame"]), tf.cast(batch["action"], tf.int32))
    reward_target = {"events": batch["events"], "bins": batch["reward"], "none": None}[self.targets.reward]
    out = model_losses.env_model_loss(
        logits, _float_frames(batch["next_frame"]), reward_target,
        frame_head=self.targets.frame_head, reward_bins=self.targets.reward_bins,
        reward_weight=self.config.reward_weight)
    return tuple(tf.reduce_mean(x) for x in (out.loss, *out.extra))

  def _update_fn(self, batch: dict) -> dict:
    variables = self.model.trainable_variables
    with tf.GradientTape() as tape:
      loss, frame_loss, reward_loss = self.loss(batch)
    grads = tape.gradient(loss, variables)
    grad_norm = tf.linalg.global_norm(grads)
    if self.config.max_grad_norm is not None:
      grads, _ = tf.clip_by_global_norm(grads, self.config.max_grad_norm, use_norm=grad_norm)
    self.optimizer.apply(grads, variables)
    self.step.assign_add(1)
    return dict(loss=loss, frame_loss=frame_loss, reward_loss=reward_loss, grad_norm=grad_norm)

  def update(self, batch: dict) -> dict:
    """One Adam step on a batch of `model_data.transitions_dataset`; returns float scalars."""
    return {k: float(v) for k, v in self._update(batch).items()}


def one_step_metrics(model: snt.Module, pairs: dict, batch_size: int = 256) -> dict:
  """Held-out one-step metrics of `model` on the pairs of `model_data.transitions`.

  Returns:
    pixel_error (fraction of pixels of the wrong colour, `model_losses.frame_error_rate`), and for
    event models event_accuracy/<event> (threshold 0.5), event_accuracy (all 5 right) and
    event_recall/<event> (events that occurred at least once); for reward-bin models reward_accuracy
    (the most probable bin is the nearest bin of the true reward).
  """
  reward_kind = "none" if isinstance(model, CopyModel) else model_targets(model).reward
  errors, event_probs, bin_hits = [], [], []
  for start in range(0, len(pairs["action"]), batch_size):
    batch = {k: v[start:start + batch_size] for k, v in pairs.items()}
    out = model(_float_frames(batch["frame"]), tf.constant(batch["action"], tf.int32))
    errors.append(model_losses.frame_error_rate(out.frame, _float_frames(batch["next_frame"])).numpy())
    if reward_kind == "events":
      event_probs.append(out.reward_bins.numpy())
    elif reward_kind == "bins":
      true_bin = model_losses.reward_bin_indices(batch["reward"], model_targets(model).reward_bins).numpy()
      bin_hits.append(np.argmax(out.reward_bins.numpy(), axis=-1) == true_bin)
  metrics = dict(pixel_error=float(np.mean(np.concatenate(errors))))
  if event_probs:
    predicted, actual = np.concatenate(event_probs) > 0.5, pairs["events"] > 0.5
    event_hits = predicted == actual
    metrics["event_accuracy"] = float(np.mean(event_hits.all(axis=1)))
    for i, name in enumerate(EVENTS):
      metrics[f"event_accuracy/{name}"] = float(np.mean(event_hits[:, i]))
      if actual[:, i].any():
        metrics[f"event_recall/{name}"] = float(np.mean(predicted[actual[:, i], i]))
  if bin_hits:
    metrics["reward_accuracy"] = float(np.mean(np.concatenate(bin_hits)))
  return metrics


def rollout_errors(model: snt.Module, frames: np.ndarray, actions: np.ndarray,
                   batch_size: int = 256) -> np.ndarray:
  """Pixel error of open-loop rollouts: the model fed its own frames with the real actions.

  Args:
    model: an environment model, `model(frame_stack, action).frame`.
    frames: uint8 [M, K+1, H, W, 3], real frames t..t+K of windows within one episode.
    actions: int [M, K], the real actions t..t+K-1.

  Returns:
    float64 [K]: entry k-1 is the mean over windows of the fraction of wrong pixels of the k-th imagined
    frame against the real frame t+k (`model_losses.frame_error_rate`).
  """
  frames, actions = np.asarray(frames), np.asarray(actions)
  if actions.ndim != 2 or frames.ndim != 5 or frames.shape[:2] != (len(actions), actions.shape[1] + 1):
    raise ValueError(f"rollout_errors: need frames [M, K+1, H, W, 3] and actions [M, K], got "
                     f"{frames.shape} and {actions.shape}")
  depth, totals = actions.shape[1], np.zeros(actions.shape[1])
  if len(frames) == 0:
    return np.full(depth, np.nan)
  for start in range(0, len(frames), batch_size):
    window, acts = frames[start:start + batch_size], actions[start:start + batch_size]
    imagined = _float_frames(window[:, 0])
    for k in range(depth):
      imagined = model(imagined, tf.constant(acts[:, k], tf.int32)).frame
      totals[k] += model_losses.frame_error_rate(imagined, _float_frames(window[:, k + 1])).numpy().sum()
  return totals / len(frames)


def model_metadata(model_kind: str, data_manifest: dict, frame_head: str, predict_reward: bool = True,
                   **extra) -> dict:
  """The JSON metadata saved beside a trained model (read by `check_env_model_compatible`)."""
  env, game = data_manifest["env_config"], data_manifest["game"]
  return dict(game=game, task=env.get("task"), model_kind=model_kind,
              frame_head="bernoulli" if model_kind == "conv" else frame_head,
              frame_shape=list(data_manifest["frame_shape"]), num_actions=data_manifest["num_actions"],
              palette=data_manifest["palette"], predict_reward=bool(predict_reward),
              room_size=env.get("room_size") if game == "sokoban" else None,
              pixels_per_cell=env.get("pixels_per_cell") if game == "sokoban" else None, **extra)


def metadata_path(checkpoint_path: str) -> str:
  """Where the metadata of a model checkpoint (a prefix or a directory of checkpoints) lives."""
  directory = checkpoint_path if os.path.isdir(checkpoint_path) else os.path.dirname(checkpoint_path)
  return os.path.join(directory, METADATA_FILE)


def write_metadata(directory: str, metadata: dict) -> None:
  model_data.atomic_write(os.path.join(directory, METADATA_FILE), json.dumps(metadata, indent=1).encode())


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
                frame_head=metadata["frame_head"], predict_reward=metadata["predict_reward"])
  keys = ("task",) if metadata["game"] == "minipacman" else ("room_size", "pixels_per_cell")
  fields.update({key: metadata[key] for key in keys})
  return configs.AgentConfig(**dict(fields, **overrides))


def check_env_model_compatible(metadata: dict, config: configs.AgentConfig,
                               source: str = "the environment model") -> None:
  """Raises ValueError listing every way the model of `metadata` does not fit the agent of `config`.

  Checked: the agent has a learned model ('learned' or 'conv') of the same kind; game; frame shape;
  number of actions; frame head and palette; Sokoban's pixels per cell and reward prediction; and for
  the talk's 'conv' model on MiniPacman, the task (it predicts that task's rewards, not events). A
  paper MiniPacman model predicts events, so it serves every task (paper Sec. 5).
  """
  config = config.resolved()
  if config.imag_path != "imag" or config.env_model not in ("learned", "conv"):
    raise ValueError(f"{source}: this agent (variant {config.variant!r}, env_model {config.env_model!r}) "
                     "has no learned environment model to load.")
  spec = config.game_spec()
  want = dict(game=config.game, model_kind=config.env_model, frame_shape=[spec.height, spec.width, 3],
              num_actions=spec.num_actions)
  if config.env_model == "learned":
    want["frame_head"] = config.frame_head
  if config.game == "sokoban":
    want.update(pixels_per_cell=config.pixels_per_cell, predict_reward=config.predict_reward)
  elif config.env_model == "conv":
    want["task"] = config.task
  problems = [f"{key} is {metadata.get(key)!r} but the agent needs {value!r}"
              for key, value in want.items() if metadata.get(key) != value]
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
