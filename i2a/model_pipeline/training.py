"""Fitting an environment model to collected data: its hyper-parameters (`EnvModelTrainConfig`), what
each model predicts (`model_targets`) and the Adam step on its loss (`EnvModelTrainer`).

The paper pretrains the model on a partially trained model-free agent's trajectories by the negative
log-likelihood of next frame and reward (l_model), then freezes it in I2A (paper Sec. 3.2 and App. B.2).
The optimiser is not given; we use Adam. The rest of the pipeline lives beside this file: the data and
its stream in `data` and `streaming`, the held-out metrics (one-step and k-step open-loop errors) in
`metrics`, the run in `loop`, and the metadata written beside a model in `export` (which
`i2a.training.env_model_metadata` checks before I2A loads the model).
"""
import dataclasses
import json
import os
from typing import Optional

import numpy as np
import sonnet as snt
import tensorflow as tf

from i2a.env_models import frame_heads
from i2a.env_models import model_losses
from i2a.env_models.minipacman_model import MiniPacmanEnvModel
from i2a.env_models.small_model import SizePreservingConvNetModel
from i2a.env_models.sokoban_model import SokobanEnvModel


@dataclasses.dataclass(frozen=True)
class EnvModelTrainConfig:
  """Hyper-parameters of environment-model training (the paper gives none; WORKSPACE.md).

  Attributes:
    steps: Adam updates in total (a resumed run continues up to this count).
    batch_size: transitions per update.
    learning_rate: Adam step size; 7e-4, a public port's value for these models (WORKSPACE.md).
    reward_weight: weight of the reward/event NLL; 1 keeps l_model a joint likelihood (paper Sec. 3.2).
    rare_reward_repeats: each training pair whose reward is not its shard's most common one is streamed
      this many times (1: the data as collected). Sokoban's solving step is about 0.2% of a weak data
      agent's steps, and at 1 the reward head learned never to predict it (WORKSPACE.md).
    event_repeats: None, or one count >= 1 per event of the data: a pair is streamed as often as the
      largest count of the events it holds (`streaming.repeat_rare_events`). MiniPacman's data agent
      ate a ghost in 0.015% of its steps, and the model fitted to it never predicted one (issue 23).
    max_grad_norm: global-norm gradient clipping; None for none.
    eval_fraction: fraction of shards held out for evaluation (`model_data.split_shards`).
    eval_every, checkpoint_every, log_every: periods in updates.
    eval_transitions, eval_windows: held-out pairs and k-step windows evaluated (the first ones).
    event_eval_pairs, event_eval_windows: held-out pairs and k-step windows of the final per-event
      report (`event_metrics`; MiniPacman), more than the periodic evaluation's: rare events need them.
    rollout_depth: K, open-loop rollout errors are reported for k = 1..K (I2A's canonical depth is 5, paper Fig. 4).
    shuffle_buffer: transitions in the tf.data shuffle buffer.
    seed: seeds TensorFlow and the data order.
  """
  steps: int = 20_000
  batch_size: int = 64
  learning_rate: float = 7e-4
  reward_weight: float = 1.0
  rare_reward_repeats: int = 1
  event_repeats: Optional[tuple] = None
  max_grad_norm: Optional[float] = None
  eval_fraction: float = 0.1
  eval_every: int = 1000
  checkpoint_every: int = 1000
  log_every: int = 100
  eval_transitions: int = 4096
  eval_windows: int = 1024
  event_eval_pairs: int = 50_000
  event_eval_windows: int = 8_192
  rollout_depth: int = 5
  shuffle_buffer: int = 20_000
  seed: int = 0

  def __post_init__(self):
    for name in ("steps", "batch_size", "eval_every", "checkpoint_every", "log_every", "eval_transitions",
                 "eval_windows", "event_eval_pairs", "event_eval_windows", "rollout_depth", "shuffle_buffer",
                 "rare_reward_repeats"):
      if getattr(self, name) < 1:
        raise ValueError(f"EnvModelTrainConfig.{name} must be >= 1, got {getattr(self, name)}.")
    if self.event_repeats is not None and (not self.event_repeats or min(self.event_repeats) < 1):
      raise ValueError(f"EnvModelTrainConfig.event_repeats must be counts >= 1, got {self.event_repeats}.")
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


def float_frames(frames) -> tf.Tensor:
  return tf.cast(frames, tf.float32) / 255.0  # uint8 -> float32 in [0, 1], as the agents see them.


class EnvModelTrainer:
  """Owns the model's optimiser and update counter, and the compiled update.

  Call `build(batch)` once before restoring a checkpoint (it creates every variable).

  Args:
    model: the environment model to fit (its `logits` give the frame and reward/event heads).
    config: learning rate, loss weights and the other settings of the fit.
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
    self.model.logits(float_frames(batch["frame"][:1]), tf.cast(batch["action"][:1], tf.int32))
    variables = self.model.trainable_variables
    self.optimizer.apply([tf.zeros_like(v) for v in variables], variables)
    self.optimizer.step.assign(0)

  def loss(self, batch: dict) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """Batch means of l_model, its frame term and its reward term (see `model_losses.env_model_loss`)."""
    logits = self.model.logits(float_frames(batch["frame"]), tf.cast(batch["action"], tf.int32))
    reward_target = {"events": batch["events"], "bins": batch["reward"], "none": None}[self.targets.reward]
    out = model_losses.env_model_loss(
        logits, float_frames(batch["next_frame"]), reward_target,
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
    """One Adam step on a batch of `streaming.transitions_dataset`; returns float scalars."""
    return {k: float(v) for k, v in self._update(batch).items()}
