"""The IMPALA-style learner: one V-trace actor-critic + distillation update per trajectory batch.

Calling loop (the train binary's):

    learner = Learner(agent, LearnerConfig())
    while True:
      publish(learner.get_weights(), learner.learner_step)  # For the actors.
      logs = learner.step(trajectory)  # Trajectory of numpy arrays or tensors, [T+1, B, ...].

The paper trains with A3C, 32-64 workers and RMSprop (paper App. A); we keep RMSprop and the entropy and
distillation terms and use IMPALA's V-trace for the actor/learner lag (WORKSPACE.md).
"""
from typing import Optional, Sequence

import dm_env
import numpy as np
import sonnet as snt
import tensorflow as tf

from i2a.training import device as device_lib
from i2a.training.learner_config import LearnerConfig
from i2a.training import loss_scale as loss_scale_lib
from i2a.training import trajectories
from i2a import agent_core
from i2a import agent_interface
from i2a import distillation
from i2a import frame_stack
from i2a import imagined as imagination_lib
from i2a import optimizers
from i2a import rl_losses
from i2a import types



class Learner:
  """Owns the optimiser, the learner-step and frame counters, and the compiled training step.

  Attributes:
    agent: the I2AAgent being trained (its environment model stays frozen).
    config: the LearnerConfig.
    device: where the variables live and the step runs, e.g. '/CPU:0'.
    learning_rate: float32 scalar tf.Variable read by the optimiser (assign to anneal it).
    learner_step: int64 scalar tf.Variable, the number of applied updates.
    num_frames: int64 scalar tf.Variable, environment frames consumed: T * B per applied update (the
      unrolls overlap by one step). The train loop may assign its own count.
  """

  def __init__(self, agent: agent_interface.Agent, config: LearnerConfig = LearnerConfig()):
    device_lib.check_mixed_precision(config.mixed_precision)
    self.agent, self.config = agent, config
    self.device = device_lib.resolve_device(config.device)
    with tf.device(self.device):
      agent_core.build_variables(agent)
      self._trainable = tuple(agent.trainable_variables)
      self.learning_rate = tf.Variable(float(config.learning_rate), trainable=False, name="learning_rate")
      self.optimizer = optimizers.build_rmsprop(config.optimizer, self.learning_rate, config.rmsprop_decay,
                                                config.rmsprop_momentum, config.rmsprop_epsilon)
      optimizers.create_slots(self.optimizer, self._trainable)  # Before tracing; changes no value.
      self.learner_step = tf.Variable(0, dtype=tf.int64, trainable=False, name="learner_step")
      self.num_frames = tf.Variable(0, dtype=tf.int64, trainable=False, name="num_frames")
    self._distil = agent.rollout_policy is not None and config.distillation_cost > 0
    self._palette = imagination_lib.palette_of(agent) if config.reuse_imagination else None
    self._float16 = agent.compute_dtype == tf.float16
    with tf.device(self.device):
      # Dynamic loss scaling (float16 only): a fixed scale would end the run at the first overflow.
      self._scaler = loss_scale_lib.DynamicLossScale(config.float16_loss_scale if self._float16 else 1.0,
                                                     config.float16_loss_scale_period)
      self.loss_scale = self._scaler.scale
    # No Python control flow on tensors here (tf.cond is explicit), so AutoGraph is not needed; skipping
    # its conversion of the whole agent cuts the first trace from ~25 s to ~2 s on this machine.
    self._step_fn = tf.function(self._step, jit_compile=config.jit_compile, autograph=False)
    self._unroll_fn = tf.function(self._unroll, autograph=False)

  def trackables(self) -> dict:
    """What a checkpoint must hold to resume: pass as `Checkpointer(directory, **learner.trackables())`."""
    objects = dict(agent=self.agent, optimizer=self.optimizer, learner_step=self.learner_step,
                   num_frames=self.num_frames)
    if self._float16:  # Only float16 runs have a loss scale; other checkpoints keep their layout.
      objects.update(self._scaler.trackables())
    return objects

  def variables(self) -> tuple[tf.Variable, ...]:
    """The agent's weights in `get_weights` order, the one the actors copy (`Agent.policy_variables`:
    trainable variables, then the frozen env model's; the agents' sampler states are left out)."""
    return self.agent.policy_variables

  def get_weights(self) -> list[np.ndarray]:
    """NumPy copies of `variables()`, for the actors (the env model is included but never trained)."""
    return [v.numpy() for v in self.variables()]

  def set_weights(self, weights: Sequence[np.ndarray]) -> None:
    """Assigns `weights` (as returned by `get_weights`) to the agent; checks count and shapes."""
    variables = self.variables()
    shapes = [tuple(np.shape(w)) for w in weights]
    if shapes != [tuple(v.shape) for v in variables]:
      raise ValueError(f"set_weights: got {len(weights)} arrays of shapes {shapes}, expected "
                       f"{[(v.name, tuple(v.shape)) for v in variables]}.")
    for variable, value in zip(variables, weights):
      variable.assign(value)

  def unroll(self, observation, step_type, initial_state, imagination=None) -> types.AgentOutput:
    """The agent's outputs on a trajectory (see `_unroll`); float32 [T+1, B, ...] tensors."""
    with tf.device(self.device):
      return self._unroll_fn(tf.convert_to_tensor(observation), tf.cast(step_type, tf.int32),
                             tf.cast(initial_state, tf.float32), imagination)

  def step(self, trajectory: types.Trajectory) -> dict[str, np.ndarray]:
    """One RMSprop update on `trajectory` (T+1 steps, B environments; numpy arrays or tensors).

    Returns:
      NumPy scalars: 'loss' (the minimised total, before the update) = 'pg_loss' + 'baseline_loss' +
      'entropy_loss' + 'distillation_loss' (each already multiplied by its cost); 'entropy' (mean policy
      entropy over valid transitions); 'distillation_cross_entropy' (mean per valid transition);
      'valid_fraction'; 'grad_norm' (global norm before clipping); 'learner_step'; 'num_frames'.

    Raises:
      ValueError: a malformed trajectory. FloatingPointError: a loss or the gradient norm is NaN/inf
      (named in the message); the update, counters included, was not applied.
    """
    trajectory = trajectories.checked_trajectory(trajectory, self.agent)
    with tf.device(self.device):
      logs = self._step_fn(trajectory)
    logs = {name: value.numpy() for name, value in logs.items()}
    if not logs.pop("finite"):
      bad = [n for n in ("pg_loss", "baseline_loss", "entropy_loss", "distillation_loss", "grad_norm")
             if not np.isfinite(logs[n])]
      raise FloatingPointError(f"Learner step {int(self.learner_step.numpy())}: non-finite {', '.join(bad)} "
                               f"({ {n: float(logs[n]) for n in bad} }); the update was NOT applied.")
    return logs

  def _unroll(self, observation: tf.Tensor, step_type: tf.Tensor, initial_state: tf.Tensor,
              imagination: Optional[imagination_lib.CompactImagination] = None) -> types.AgentOutput:
    """Runs the agent over T+1 steps, resetting its frame stack at every FIRST step.

    The agent's state is the stack of the frames it has seen, a function of the observations alone, so
    the stacks are built first (reset to `agent.initial_state` BEFORE a FIRST step's frame is pushed)
    and the agent then runs once on all (T+1) * B steps folded into the batch: identical to stepping it
    T+1 times, and one large batch instead of T+1 small ones on a GPU.

    observation uint8 [T+1, B, H, W, 3], step_type int32 [T+1, B], initial_state float32 [B, H, W, 3S]
    (the stack before step 0) -> AgentOutput of [T+1, B] actions, baselines and [T+1, B, A] logits.
    With `imagination` ([T+1, B, ...] CompactImagination) and `reuse_imagination`, the agent
    re-encodes those rollouts instead of imagining again.
    """
    frames = tf.cast(observation, tf.float32) / 255.0
    reset_state = self.agent.initial_state(tf.shape(observation)[1])
    state, prev_states = initial_state, []
    for t in range(observation.shape[0]):
      state = tf.where(tf.equal(step_type[t], int(dm_env.StepType.FIRST))[:, None, None, None], reset_state, state)
      prev_states.append(state)
      state = frame_stack.update_frame_stack(state, frames[t])
    kwargs = {}
    if imagination is not None and self._palette is not None:
      kwargs["imagination"] = imagination_lib.expand(imagination, self._palette)
    outputs, _ = snt.BatchApply(self.agent)(frames, tf.stack(prev_states), **kwargs)
    return outputs

  def _step(self, trajectory: types.Trajectory) -> dict[str, tf.Tensor]:
    config = self.config
    rewards = rl_losses.clip_rewards(trajectory.reward, config.reward_clipping)
    with tf.GradientTape() as tape:
      outputs = self._unroll(trajectory.observation, trajectory.step_type, trajectory.initial_state,
                             trajectory.imagination)
      losses, extra = rl_losses.impala_losses(
          trajectory.step_type, rewards, trajectory.discount, trajectory.action,
          trajectory.behaviour_logits, outputs.policy_logits, outputs.baseline, config.discount,
          config.clip_rho_threshold, config.clip_pg_rho_threshold)
      cross_entropy = tf.zeros([])
      if self._distil:  # The rollout policy sees the real current frame (paper Sec. 3.1; talk).
        frames = tf.cast(tf.cast(trajectory.observation[:-1], tf.float32) / 255.0,
                         self.agent.compute_dtype)
        _, rollout_logits = snt.BatchApply(self.agent.rollout_policy)(frames)
        per_step = distillation.distillation_loss(rollout_logits, outputs.policy_logits[:-1]).loss
        cross_entropy = tf.reduce_sum(extra.mask * per_step)
      terms = dict(pg_loss=losses.policy_gradient, baseline_loss=config.baseline_cost * losses.baseline,
                   entropy_loss=config.entropy_cost * losses.entropy,
                   distillation_loss=config.distillation_cost * cross_entropy)
      total = tf.add_n(list(terms.values()))
      loss_scale = self.loss_scale.read_value()
      scaled_total = total * loss_scale if self._float16 else total  # LearnerConfig.float16_loss_scale.
    grads = tape.gradient(scaled_total, self._trainable)
    if self._float16:
      grads = [g / loss_scale for g in grads]
    grad_norm = tf.linalg.global_norm(grads)
    losses_finite = tf.reduce_all(tf.math.is_finite(tf.stack(list(terms.values()))))
    grads_finite = tf.math.is_finite(grad_norm)
    applied = tf.logical_and(losses_finite, grads_finite)
    # In float16 an overflowing gradient is the loss scale's fault, not the run's: skip and rescale.
    finite = losses_finite if self._float16 else applied
    if config.max_grad_norm is not None:
      grads, _ = tf.clip_by_global_norm(grads, config.max_grad_norm, use_norm=grad_norm)

    def apply():
      self.optimizer.apply(grads, self._trainable)
      self.learner_step.assign_add(1)
      self.num_frames.assign_add(tf.cast(tf.size(trajectory.reward[1:]), tf.int64))
      return tf.constant(True)

    tf.cond(applied, apply, lambda: tf.constant(False))
    num_valid = tf.maximum(tf.reduce_sum(extra.mask), 1.0)
    logs = dict(loss=total, **terms, entropy=tf.reduce_sum(extra.entropy * extra.mask) / num_valid,
                distillation_cross_entropy=cross_entropy / num_valid, grad_norm=grad_norm,
                valid_fraction=tf.reduce_mean(extra.mask), learner_step=self.learner_step.read_value(),
                num_frames=self.num_frames.read_value(), finite=finite)
    if self._float16:
      self._scaler.update(grads_finite)
      logs.update(loss_scale=loss_scale, overflow=1.0 - tf.cast(grads_finite, tf.float32))
    return logs
