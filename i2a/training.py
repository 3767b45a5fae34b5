"""The training loop: actors (local threads or Ray) feed one learner; progress, summaries, checkpoints.

    result = train(TrainConfig(agent=AgentConfig(...), env=EnvConfig(...), logdir="runs/x"))

A run in an existing logdir resumes from its newest checkpoint: weights, optimiser state, learner step
and frame count. The progress line reports frames, frames/s, mean episode return, the Sokoban solve
rate (fraction of episodes ending with discount 0, paper Fig. 4's metric) and the time left.
"""
import dataclasses
import json
import os
import time
from typing import Optional

from absl import logging
import numpy as np
import tensorflow as tf

from i2a import backends
from i2a import checkpointing
from i2a import configs
from i2a import env_factory
from i2a import factory
from i2a import imagination
from i2a import learner as learner_lib
from i2a import queues

BACKENDS = ("local", "ray")
_SCALAR_METADATA = tf.compat.v1.SummaryMetadata(
    plugin_data=tf.compat.v1.SummaryMetadata.PluginData(plugin_name="scalars"))


@dataclasses.dataclass(frozen=True)
class TrainConfig:
  """One training run.

  Attributes:
    agent, env, learner: the agent, environment and optimisation configs.
    logdir: TensorBoard summaries, `checkpoints/` and `resumes.jsonl` go here.
    num_actors, envs_per_actor: actors, and the environment copies each steps in one batch.
    batch_size: environment copies per learner batch; a multiple of `envs_per_actor`.
    unroll_length: T; unrolls hold T+1 steps and each brings T * envs_per_actor new frames.
    total_frames: stop once the learner has consumed this many environment frames.
    seed: seeds the agent, the environments and TensorFlow; None for non-deterministic.
    backend: 'local' (actor threads) or 'ray' (Ray actors); ray_address: a cluster, None for local.
    env_model_checkpoint: the pretrained environment model loaded before training ('learned' models).
    queue_size: unrolls buffered between actors and learner; None for 2 * num_actors.
    checkpoint_every_secs, checkpoint_every_frames: save when either is due (None: never on that clock).
    max_checkpoints: checkpoints kept.
    log_every_secs: progress line and summary period.
    publish_every: learner steps between weight publications to the actors.
    max_seconds: also stop (with a checkpoint) after this many seconds of training; None for no limit.
    actor_jit_compile: actors compile their policy step with XLA.
  """
  agent: configs.AgentConfig = configs.AgentConfig(game="sokoban", variant="standard")
  env: env_factory.EnvConfig = env_factory.EnvConfig()
  learner: learner_lib.LearnerConfig = learner_lib.LearnerConfig()
  logdir: str = "runs/default"
  num_actors: int = 2
  envs_per_actor: int = 16
  batch_size: int = 32
  unroll_length: int = 20
  total_frames: int = 1_000_000
  seed: Optional[int] = 0
  backend: str = "local"
  ray_address: Optional[str] = None
  env_model_checkpoint: Optional[str] = None
  queue_size: Optional[int] = None
  checkpoint_every_secs: Optional[float] = 600.0
  checkpoint_every_frames: Optional[int] = None
  max_checkpoints: int = 3
  log_every_secs: float = 10.0
  publish_every: int = 1
  max_seconds: Optional[float] = None
  actor_jit_compile: bool = False

  def __post_init__(self):
    for name in ("num_actors", "envs_per_actor", "batch_size", "unroll_length", "total_frames",
                 "max_checkpoints", "publish_every"):
      if getattr(self, name) < 1:
        raise ValueError(f"TrainConfig.{name} must be >= 1, got {getattr(self, name)}.")
    if self.batch_size % self.envs_per_actor:
      raise ValueError(f"batch_size={self.batch_size} must be a multiple of envs_per_actor="
                       f"{self.envs_per_actor} (a learner batch is made of whole actor unrolls).")
    if self.backend not in BACKENDS:
      raise ValueError(f"Unknown backend {self.backend!r}; expected one of {BACKENDS}.")
    if self.ray_address and self.backend != "ray":
      raise ValueError("ray_address is only used by backend='ray'.")
    self.env.check_agent(self.agent)
    resolved = self.agent.resolved()
    if resolved.imag_path == "imag" and resolved.env_model == "learned" and not self.env_model_checkpoint:
      raise ValueError("env_model='learned' needs env_model_checkpoint: I2A's environment model is "
                       "pretrained and frozen (paper Sec. 3.2); train one first.")
    if self.env_model_checkpoint and not (resolved.imag_path == "imag" and resolved.env_model != "copy"):
      raise ValueError("env_model_checkpoint is set but this agent has no learned environment model "
                       f"(variant={self.agent.variant!r}, imag_path={resolved.imag_path!r}, "
                       f"env_model={resolved.env_model!r}).")


def make_backend(config: TrainConfig, builder: backends.ActorBuilder) -> backends.Backend:
  queue_size = config.queue_size or 2 * config.num_actors
  if config.backend == "ray":
    from i2a.backends import ray_backend  # pylint: disable=g-import-not-at-top  # Optional extra.
    return ray_backend.RayBackend(builder, config.num_actors, queue_size, address=config.ray_address)
  from i2a.backends import local  # pylint: disable=g-import-not-at-top
  return local.LocalBackend(builder, config.num_actors, queue_size)


def state_summary(learner: learner_lib.Learner) -> dict:
  """Numbers that identify a training state: frames, learner step, and checksums of weights and
  optimiser slots (float64 sums of absolute values)."""
  def checksum(variables):
    return float(sum(np.abs(v.numpy().astype(np.float64)).sum() for v in variables))
  return dict(num_frames=int(learner.num_frames.numpy()), learner_step=int(learner.learner_step.numpy()),
              weights_checksum=checksum(learner.variables()),
              optimizer_checksum=checksum(learner.optimizer.variables))


def build_learner(config: TrainConfig) -> tuple[learner_lib.Learner, checkpointing.Checkpointer]:
  """The run's learner (with the pretrained environment model loaded) and its checkpointer."""
  agent = factory.build_agent(dataclasses.replace(config.agent, seed=config.seed))
  learner = learner_lib.Learner(agent, config.learner)
  if config.env_model_checkpoint:
    # Refuse a model trained for another game, frame shape, head or task before touching its weights.
    from i2a import env_model_training  # pylint: disable=g-import-not-at-top
    env_model_training.check_checkpoint_compatible(config.env_model_checkpoint, config.agent)
    checkpointing.load_env_model(agent.env_model, config.env_model_checkpoint)
  checkpointer = checkpointing.Checkpointer(os.path.join(config.logdir, "checkpoints"),
                                            config.max_checkpoints, **learner.trackables())
  return learner, checkpointer


class _Window:
  """Episode and learner statistics since the last progress line."""

  def __init__(self, frames: int):
    self.start_time, self.start_frames = time.monotonic(), frames
    self.returns, self.lengths, self.terminal, self.lags, self.logs = [], [], [], [], {}

  def add(self, parts, logs: dict, learner_step: int) -> None:
    for part in parts:
      self.returns.extend(part.episodes.returns)
      self.lengths.extend(part.episodes.lengths)
      self.terminal.extend(part.episodes.terminal)
      self.lags.append(learner_step - part.weights_step)
    for name, value in logs.items():
      self.logs.setdefault(name, []).append(float(value))

  def scalars(self, frames: int, game: str) -> dict:
    elapsed = max(time.monotonic() - self.start_time, 1e-9)
    out = {name: float(np.mean(values)) for name, values in self.logs.items()
           if name not in ("learner_step", "num_frames")}
    out.update(frames_per_second=(frames - self.start_frames) / elapsed, policy_lag=float(np.mean(self.lags)))
    if self.returns:
      out.update(episode_return=float(np.mean(self.returns)), episode_length=float(np.mean(self.lengths)),
                 episodes=float(len(self.returns)))
      if game == "sokoban":  # A level is solved when its episode ends with discount 0 (spec 4.1).
        out["solve_rate"] = float(np.mean(self.terminal))
    return out


def write_scalars(writer, scalars: dict, step: int) -> None:
  """Writes TensorBoard scalar summaries without needing the tensorboard package (tf.summary.scalar
  does): the same tensor summaries with the 'scalars' plugin tag."""
  with writer.as_default():
    for name, value in scalars.items():
      tf.summary.write(name, tf.constant(value, tf.float32), step=step, metadata=_SCALAR_METADATA)
  writer.flush()


def progress_line(scalars: dict, frames: int, total: int, game: str) -> str:
  fps = scalars["frames_per_second"]
  eta = max(total - frames, 0) / fps if fps > 0 else float("inf")
  ret = f"{scalars['episode_return']:.2f}" if "episode_return" in scalars else "n/a"
  line = f"frames {frames:,}/{total:,} | {fps:,.0f} frames/s | return {ret}"
  if game == "sokoban":
    line += f" | solved {scalars['solve_rate']:.1%}" if "solve_rate" in scalars else " | solved n/a"
  eta_text = time.strftime("%H:%M:%S", time.gmtime(eta)) if np.isfinite(eta) else "?"
  return line + f" | lag {scalars['policy_lag']:.1f} | ETA {eta_text}"


def train(config: TrainConfig) -> dict:
  """Trains until `config.total_frames`; returns the last window's scalars plus `state_summary`."""
  if config.seed is not None:
    tf.random.set_seed(config.seed)
  os.makedirs(config.logdir, exist_ok=True)
  learner, checkpointer = build_learner(config)
  if checkpointer.restore_latest():
    summary = state_summary(learner)
    logging.info("Resumed from %s: %s", config.logdir, summary)
    with open(os.path.join(config.logdir, "resumes.jsonl"), "a") as f:
      f.write(json.dumps(summary) + "\n")
  builder = backends.ActorBuilder(config.agent, config.env, config.envs_per_actor, config.unroll_length,
                                  config.seed, ship_imagination=config.learner.reuse_imagination,
                                  jit_compile=config.actor_jit_compile)
  shipped = imagination.batch_bytes(learner.agent, config.batch_size, config.unroll_length)
  if shipped and config.learner.reuse_imagination:
    queued = (config.queue_size or 2 * config.num_actors) * shipped * config.envs_per_actor // config.batch_size
    logging.info("Imagination reused: %.1f MB per learner batch, at most %.1f MB queued.", shipped / 2**20,
                 queued / 2**20)
  writer = tf.summary.create_file_writer(config.logdir)
  frames = int(learner.num_frames.numpy())
  window, scalars = _Window(frames), {}
  last_save_time, last_save_frames = time.monotonic(), frames
  backend = make_backend(config, builder)
  deadline = time.monotonic() + (config.max_seconds if config.max_seconds is not None else float("inf"))
  try:
    backend.publish(learner.get_weights(), int(learner.learner_step.numpy()))
    backend.start()
    batcher = queues.Batcher(backend.unroll_queue, config.batch_size)
    done = frames >= config.total_frames
    while not done:
      trajectory, parts = batcher.next_batch(timeout=600)
      step_before = int(learner.learner_step.numpy())
      logs = learner.step(trajectory)
      frames, step = int(logs["num_frames"]), int(logs["learner_step"])
      if step % config.publish_every == 0:
        backend.publish(learner.get_weights(), step)
      window.add(parts, logs, step_before)
      done = frames >= config.total_frames or time.monotonic() >= deadline
      if done or time.monotonic() - window.start_time >= config.log_every_secs:
        scalars = window.scalars(frames, config.env.game)
        scalars["actor_restarts"] = float(backend.actor_restarts)
        logging.info(progress_line(scalars, frames, config.total_frames, config.env.game))
        write_scalars(writer, scalars, frames)
        window = _Window(frames)
      now = time.monotonic()
      due_time = (config.checkpoint_every_secs is not None
                  and now - last_save_time >= config.checkpoint_every_secs)
      due_frames = (config.checkpoint_every_frames is not None
                    and frames - last_save_frames >= config.checkpoint_every_frames)
      if done or due_time or due_frames:
        checkpointer.save(step)
        last_save_time, last_save_frames = now, frames
  finally:
    backend.stop()
    writer.close()
  return dict(scalars, **state_summary(learner), actor_restarts=backend.actor_restarts)
