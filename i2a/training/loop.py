"""The training loop: actors (local threads or Ray) feed one learner; progress, summaries, checkpoints.

    result = train(TrainConfig(agent=AgentConfig(...), env=EnvConfig(...), logdir="runs/x"))

A run in an existing logdir resumes from its newest readable checkpoint: weights, optimiser state,
learner step and frame count. The logdir is locked while a run uses it (`rundir`), its resolved config
is stored as `config.json` (`stored_config`), a resumed run refuses settings that change the experiment,
and SIGINT/SIGTERM save a checkpoint before the run returns (`interrupt`). `progress` writes the
progress line and the TensorBoard scalars. With `deterministic`, acting and learning alternate in one
thread (`backends/sync.py`) and the same seed gives bit-identical weights.
"""
import dataclasses
import json
import os
import time
from typing import Optional

from absl import logging
import numpy as np
import tensorflow as tf
from tensorflow.python.framework import config as tf_config  # Op determinism on/off.

from i2a import factory
from i2a import seeds
from i2a import imagined as imagined_lib
from i2a.training import backends
from i2a.training import checkpointing
from i2a.training import env_model_metadata
from i2a.training import interrupt
from i2a.training import learner as learner_lib
from i2a.training import progress
from i2a.training import queues
from i2a.training import stored_config
from i2a.training import rundir
from i2a.training import summaries
from i2a.training.train_config import TrainConfig



def make_backend(config: TrainConfig, builder: backends.ActorBuilder) -> backends.Backend:
  queue_size = config.queue_size or 2 * config.num_actors
  if config.inference == "central":
    from i2a.training.central import build as central  # pylint: disable=g-import-not-at-top
    return central.make_backend(config, builder, queue_size)
  if config.deterministic:
    from i2a.training.backends import sync  # pylint: disable=g-import-not-at-top
    return sync.SyncBackend(builder, config.num_actors)
  if config.backend == "ray":
    from i2a.training.backends import ray_backend  # pylint: disable=g-import-not-at-top  # Optional extra.
    return ray_backend.RayBackend(builder, config.num_actors, queue_size, address=config.ray_address,
                                  connect_timeout=config.ray_connect_timeout_secs)
  from i2a.training.backends import local  # pylint: disable=g-import-not-at-top
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
  agent = factory.build_agent(dataclasses.replace(config.agent, seed=seeds.learner(config.seed)),
                              discount=config.learner.discount)
  learner = learner_lib.Learner(agent, config.learner)
  if config.env_model_checkpoint:
    # Refuse a model trained for another game, frame shape, head or task before touching its weights.
    env_model_metadata.check_checkpoint_compatible(config.env_model_checkpoint, config.agent)
    checkpointing.load_env_model(agent.env_model, config.env_model_checkpoint)
  checkpointer = checkpointing.Checkpointer(os.path.join(config.logdir, "checkpoints"),
                                            config.max_checkpoints, **learner.trackables())
  return learner, checkpointer


def train(config: TrainConfig, allow_config_change: bool = False,
          stop: Optional[interrupt.StopRequest] = None) -> dict:
  """Trains until `config.total_frames` (or a stop request); returns the last window's scalars plus
  `state_summary` and `stopped_by` (the signal that stopped the run early, or None).

  Args:
    config: the run. An unset `agent.precision` is resolved here (`AgentConfig.with_resolved_precision`)
      and stored resolved, so a resume that would compute in another precision is refused like any
      other change of the experiment.
    allow_config_change: resume even if the stored config differs in settings that change the
      experiment (each difference is logged); otherwise such a resume raises ValueError naming them.
    stop: a StopRequest to use instead of catching SIGINT/SIGTERM here.

  Raises:
    rundir.RunDirectoryError: the logdir is in use by another run, or not writable.
    checkpointing.CheckpointError: checkpoints exist but none is readable, or they hold another agent.
    ValueError: a resume with a different config (see `stored_config`).
  """
  # The precision is decided here, once, for the learner, every actor and the stored config.
  config = dataclasses.replace(config, agent=config.agent.with_resolved_precision())
  rundir.check_writable(config.logdir)
  with rundir.DirectoryLock(config.logdir, "logdir"):
    rundir.check_writable(os.path.join(config.logdir, "checkpoints"))
    determinism_was_on = tf_config.is_op_determinism_enabled()
    if config.deterministic:
      tf_config.enable_op_determinism()
    try:
      return _train_locked(config, allow_config_change, stop or interrupt.StopRequest())
    finally:
      if config.deterministic and not determinism_was_on:
        tf_config.disable_op_determinism()


def _train_locked(config: TrainConfig, allow_config_change: bool, stop: interrupt.StopRequest) -> dict:
  stored = stored_config.load(config.logdir)
  if stored is not None and stored.agent.precision is None:
    # Stored before runs recorded their precision: it was this default on the machine that ran it.
    stored = dataclasses.replace(stored, agent=stored.agent.with_resolved_precision())
    logging.warning("The stored config predates recorded precisions; taking %s, this machine's default, "
                    "as the run's precision.", stored.agent.precision)
  changed = []
  if checkpointing.checkpoints_on_disk(os.path.join(config.logdir, "checkpoints")):
    changed = stored_config.check_resume(stored, config, allow_config_change)  # Before any heavy work.
  if config.seed is not None:
    tf.random.set_seed(config.seed)
  learner, checkpointer = build_learner(config)
  if checkpointer.restore_latest(repair=True):
    summary = state_summary(learner)
    logging.info("Resumed from %s: %s", checkpointer.latest_path, summary)
    skipped = [path for path, _ in checkpointer.skipped]
    with open(os.path.join(config.logdir, "resumes.jsonl"), "a") as f:
      f.write(json.dumps(dict(summary, config_changes=changed, skipped_checkpoints=skipped)) + "\n")
  stored_config.save(config, config.logdir)
  frames = int(learner.num_frames.numpy())
  # The frame count resumed from numbers the session: new environment seeds after every resume.
  env = config.env
  if config.deterministic and config.geometry.game == "sokoban":  # Generated levels in seed order, never replays.
    env = dataclasses.replace(env, level_when_dry="wait")
  builder = backends.ActorBuilder(config.agent, env, config.envs_per_actor, config.unroll_length,
                                  config.seed, session=frames, discount=config.learner.discount,
                                  ship_imagination=config.learner.reuse_imagination,
                                  jit_compile=config.actor_jit_compile)
  shipped = imagined_lib.batch_bytes(learner.agent, config.batch_size, config.unroll_length)
  if shipped and config.learner.reuse_imagination:
    queued = (config.queue_size or 2 * config.num_actors) * shipped * config.envs_per_actor // config.batch_size
    logging.info("Imagination reused: %.1f MB per learner batch, at most %.1f MB queued.", shipped / 2**20,
                 queued / 2**20)
  writer = tf.summary.create_file_writer(config.logdir)
  window, scalars = progress.Window(frames), {}
  last_save_time, last_save_frames = time.monotonic(), frames
  backend = make_backend(config, builder)
  deadline = time.monotonic() + (config.max_seconds if config.max_seconds is not None else float("inf"))
  try:
    with stop:
      # Central inference copies the learner's variables on its device (never via the host, SEED RL).
      weights = learner.variables if backend.takes_variables else learner.get_weights
      backend.publish(weights(), int(learner.learner_step.numpy()))
      backend.start()
      batcher = queues.Batcher(backend.unroll_queue, config.batch_size)
      done = frames >= config.total_frames
      while not done:
        trajectory, parts = batcher.next_batch(timeout=600)
        step_before = int(learner.learner_step.numpy())
        logs = learner.step(trajectory)
        frames, step = int(logs["num_frames"]), int(logs["learner_step"])
        if step % config.publish_every == 0:
          backend.publish(weights(), step)
        window.add(parts, logs, step_before)
        done = frames >= config.total_frames or time.monotonic() >= deadline or stop.requested
        if done or time.monotonic() - window.start_time >= config.log_every_secs:
          scalars = window.scalars(frames, config.geometry.game)
          scalars["actor_restarts"] = float(backend.actor_restarts)
          scalars.update(backend.scalars())
          logging.info(progress.progress_line(scalars, frames, config.total_frames, config.geometry.game))
          summaries.write_scalars(writer, scalars, frames)
          window = progress.Window(frames)
        now = time.monotonic()
        due_time = (config.checkpoint_every_secs is not None
                    and now - last_save_time >= config.checkpoint_every_secs)
        due_frames = (config.checkpoint_every_frames is not None
                      and frames - last_save_frames >= config.checkpoint_every_frames)
        if done or due_time or due_frames:
          checkpointer.save(step)
          last_save_time, last_save_frames = now, frames
      if stop.requested:
        logging.warning("Stopped by %s at %d frames; saved %s. Rerun with the same logdir to resume.",
                        stop.signal_name, frames, checkpointer.latest_path)
  finally:
    backend.stop()
    writer.close()
  return dict(scalars, **state_summary(learner), actor_restarts=backend.actor_restarts,
              stopped_by=stop.signal_name)
