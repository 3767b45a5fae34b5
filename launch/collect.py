r"""Collects environment-model training data: a trained agent (or, if asked, a random policy) playing.

The paper fits its environment models to trajectories of a partially trained model-free agent; a random
agent sees too few rewards (spec 2.1, paper Sec. 3.2). So the usual source is an agent checkpoint of
`launch.train`, named together with the flags (or flag file) it was trained with:

  python -m launch.collect --flagfile=launch/configs/pipeline_minipacman_1_agent.flags \
      --agent_checkpoint=runs/pipeline_minipacman_agent --num_transitions=1000000 --out=data/minipacman
  python -m launch.collect --env=minipacman --random_policy --num_transitions=100000 --out=/tmp/mp

The game, environment and agent flags are launch.train's. Rerunning with the same --out continues the
collection (new shards, no duplicates) up to --num_transitions; interrupting it loses at most the shard
being filled. See i2a/env_model_data.py for the format.
"""
import dataclasses
import math
import os
import sys
import time
from typing import Callable, Optional

from absl import app
from absl import flags
from absl import logging
import numpy as np
import tensorflow as tf

from envs import batched
from envs import minipacman
from i2a import checkpointing
from i2a import env_factory
from i2a import env_model_data
from i2a import factory
from i2a import games
from i2a import learner as learner_lib
from i2a import training
from launch import train

FIRST = 0
SESSION_SEED_STRIDE = 100_003  # Seed of a (resumed) session: seed + stride * (shards already written).


def define_flags(fv: flags.FlagValues = flags.FLAGS) -> None:
  """This binary's own flags (the game, env and agent flags are launch.train's).

  Defined only when run as a program, so tests can import this module beside other launch binaries
  whose flags share names (--out, --seed, ...).
  """
  flags.DEFINE_string("agent_checkpoint", None, "Agent to play: a launch.train --logdir, its "
                      "checkpoints/ directory, or a checkpoint prefix.", flag_values=fv)
  flags.DEFINE_bool("random_policy", False, "Play uniformly random actions instead of an agent.",
                    flag_values=fv)
  flags.DEFINE_integer("num_transitions", None, "Environment steps to collect in total (rounded up to "
                       "whole shards; a rerun continues up to this count).", lower_bound=1, flag_values=fv)
  flags.DEFINE_string("out", None, "Data directory (created, or continued if it exists).", flag_values=fv)
  flags.DEFINE_integer("shard_size", 4096, "Environment steps per shard (a multiple of --num_envs).",
                       lower_bound=1, flag_values=fv)
  flags.DEFINE_integer("num_envs", 16, "Environment copies stepped together.", lower_bound=1,
                       flag_values=fv)


def resolve_agent_checkpoint(path: str) -> str:
  """The checkpoint prefix named by a launch.train logdir, a checkpoints/ directory, or a prefix."""
  if os.path.isdir(path):
    for directory in (os.path.join(path, "checkpoints"), path):
      prefix = tf.train.latest_checkpoint(directory) if os.path.isdir(directory) else None
      if prefix:
        return prefix
    raise ValueError(f"--agent_checkpoint={path!r}: no checkpoint in it or in its checkpoints/ directory.")
  if not os.path.exists(path + ".index"):
    raise ValueError(f"--agent_checkpoint={path!r}: neither a directory nor a checkpoint prefix "
                     f"({path}.index does not exist).")
  return path


def load_agent(config: training.TrainConfig, prefix: str):
  """The agent of `config` with the weights of a launch.train checkpoint (its Checkpointer layout:
  agent, optimizer, learner_step, num_frames); CheckpointError if it is another agent's."""
  agent = factory.build_agent(dataclasses.replace(config.agent, seed=config.seed))
  learner = learner_lib.Learner(agent, config.learner)  # Builds the variables the checkpoint holds.
  checkpointing.Checkpointer(os.path.dirname(prefix), **learner.trackables()).restore(prefix)
  return agent


class RandomPolicy:
  """Uniform actions from a seeded NumPy generator: timestep -> int32 [N]."""

  def __init__(self, num_actions: int, seed: int):
    self._num_actions, self._rng = num_actions, np.random.default_rng(seed)

  def __call__(self, timestep: batched.BatchedTimeStep) -> np.ndarray:
    return self._rng.integers(self._num_actions, size=len(timestep.step_type)).astype(np.int32)


class AgentPolicy:
  """An agent acting in N copies, as the actors do: state reset at FIRST steps, frames / 255."""

  def __init__(self, agent, num_envs: int):
    self._agent = agent
    self._state = agent.initial_state(num_envs)
    self._step = tf.function(self._step_fn)

  def _step_fn(self, frame, step_type, state):
    first = tf.equal(step_type, FIRST)[:, None, None, None]
    state = tf.where(first, self._agent.initial_state(tf.shape(state)[0]), state)
    return self._agent(tf.cast(frame, tf.float32) / 255.0, state)

  def __call__(self, timestep: batched.BatchedTimeStep) -> np.ndarray:
    output, self._state = self._step(timestep.observation["rgb"], timestep.step_type.astype(np.int32),
                                     self._state)
    return output.action.numpy().astype(np.int32)


class Progress:
  """A one-line progress bar on a terminal, a log line every 10% otherwise."""

  def __init__(self, total: int, done: int, stream=sys.stderr):
    self._total, self._start_done, self._start = total, done, time.monotonic()
    self._stream, self._last_tenth = stream, -1

  def update(self, done: int) -> None:
    rate = (done - self._start_done) / max(time.monotonic() - self._start, 1e-9)
    eta = max(self._total - done, 0) / rate if rate > 0 else float("inf")
    fraction = min(done / self._total, 1.0)
    text = (f"{done:,}/{self._total:,} steps | {rate:,.0f} steps/s | ETA "
            f"{time.strftime('%H:%M:%S', time.gmtime(eta)) if math.isfinite(eta) else '?'}")
    if self._stream.isatty():
      bar = "#" * int(30 * fraction)
      self._stream.write(f"\r[{bar:<30}] {text}" + ("\n" if fraction >= 1 else ""))
      self._stream.flush()
    elif int(10 * fraction) > self._last_tenth:
      self._last_tenth = int(10 * fraction)
      logging.info("Collected %s", text)


def _row(timestep: batched.BatchedTimeStep, num_events: int) -> dict:
  n = len(timestep.step_type)
  events = timestep.observation.get("events", np.zeros((n, num_events), np.float32))
  return dict(step_type=np.asarray(timestep.step_type, np.uint8), frame=timestep.observation["rgb"],
              action=np.full(n, -1, np.int32), reward=np.asarray(timestep.reward, np.float32),
              discount=np.asarray(timestep.discount, np.float32), events=np.asarray(events, np.float32))


def collect(env: batched.BatchedEnvironment, policy: Callable[[batched.BatchedTimeStep], np.ndarray],
            writer: env_model_data.ShardWriter, num_transitions: int, shard_size: int,
            progress: Optional[Progress] = None, **shard_info) -> int:
  """Plays from `env.reset()` and writes shards of `shard_size` steps until the directory holds at least
  `num_transitions` steps; returns the number of shards written.

  Consecutive shards of one call overlap by one step (the last row of one is the first of the next).
  """
  n = env.num_envs
  if shard_size % n:
    raise ValueError(f"shard_size={shard_size} must be a multiple of num_envs={n}.")
  length, num_events = shard_size // n, writer.manifest["num_events"]
  written = 0
  if writer.num_steps >= num_transitions:
    return written
  timestep = env.reset()
  rows = [_row(timestep, num_events)]
  while writer.num_steps < num_transitions:
    action = np.asarray(policy(timestep), np.int32)
    rows[-1]["action"] = action
    timestep = env.step(action)
    rows.append(_row(timestep, num_events))
    if len(rows) == length + 1:
      writer.write({key: np.stack([r[key] for r in rows]) for key in rows[0]}, **shard_info)
      written += 1
      rows = [rows[-1]]
      if progress is not None:
        progress.update(writer.num_steps)
  return written


def data_header(env_config: env_factory.EnvConfig, policy: object, seed: int) -> dict:
  """The manifest's fixed part for data of `env_config` played by `policy` ('random' or a dict)."""
  spec = games.game_spec(env_config.game, env_config.task, env_config.room_size, env_config.pixels_per_cell)
  events = list(minipacman.EVENT_NAMES) if env_config.game == "minipacman" else []
  return json_safe(dict(game=env_config.game, env_config=dataclasses.asdict(env_config),
                        frame_shape=[spec.height, spec.width, 3], num_actions=spec.num_actions,
                        num_events=len(events), event_names=events, palette=spec.palette.tolist(),
                        policy=policy, seed=seed))


def check_policy_choice(random_policy: bool, agent_checkpoint: Optional[str]) -> None:
  """Raises ValueError unless exactly one policy is asked for: random play is never a silent default."""
  if random_policy == bool(agent_checkpoint):
    raise ValueError("Give exactly one of --agent_checkpoint (the paper's choice: a partially trained "
                     "agent) and --random_policy.")


def run_with_flags(fv: flags.FlagValues) -> dict:
  """The binary's work, from parsed flags (launch.train's and `define_flags`'); returns the manifest.

  Raises:
    app.UsageError: bad flags (before anything is written).
  """
  try:
    check_policy_choice(fv.random_policy, fv.agent_checkpoint)
    for name in ("num_transitions", "out"):
      if fv[name].value is None:
        raise ValueError(f"--{name} is required.")
    if fv.shard_size % fv.num_envs:
      raise ValueError(f"--shard_size={fv.shard_size} must be a multiple of --num_envs={fv.num_envs}.")
    config = train.config_from_flags(fv)
    # The data must be a function of the seed: the Sokoban level supply waits rather than replays.
    config = dataclasses.replace(config, env=dataclasses.replace(config.env, level_when_dry="wait"))
    prefix = None if fv.random_policy else resolve_agent_checkpoint(fv.agent_checkpoint)
  except ValueError as e:
    raise app.UsageError(str(e)) from e
  seed = config.seed
  if seed is None:  # --seed=-1: a fresh seed, or the one of the collection being continued.
    existing = os.path.join(fv.out, env_model_data.MANIFEST)
    seed = (env_model_data.read_manifest(fv.out)["seed"] if os.path.exists(existing)
            else int(np.random.SeedSequence().entropy % 2**31))
  policy_name = "random" if prefix is None else {"agent_checkpoint": os.path.abspath(prefix),
                                                 "agent": dataclasses.asdict(config.agent)}
  try:
    writer = env_model_data.ShardWriter(fv.out, data_header(config.env, policy_name, seed))
  except ValueError as e:  # --out holds another game's, policy's or seed's data.
    raise app.UsageError(str(e)) from e
  try:
    if writer.removed:
      logging.info("Removed files of an interrupted collection: %s", writer.removed)
    session_seed = seed + SESSION_SEED_STRIDE * writer.num_shards
    env = env_factory.build_env(config.env, fv.num_envs, seed=session_seed)
    if prefix is None:
      policy = RandomPolicy(env.num_actions, session_seed)
    else:
      policy = AgentPolicy(load_agent(dataclasses.replace(config, seed=session_seed), prefix), fv.num_envs)
    logging.info("Collecting %s steps into %s (%s already there), session seed %d.", fv.num_transitions,
                 fv.out, writer.num_steps, session_seed)
    collect(env, policy, writer, fv.num_transitions, fv.shard_size,
            Progress(fv.num_transitions, writer.num_steps), session_seed=session_seed)
  except KeyboardInterrupt:
    logging.warning("Interrupted: %d complete shards are listed in %s; rerun to continue.",
                    writer.num_shards, os.path.join(fv.out, env_model_data.MANIFEST))
    raise
  finally:
    writer.close()
  logging.info("Done: %s shards, %s steps, %s valid transitions in %s.", writer.num_shards,
               writer.num_steps, writer.manifest["num_transitions"], fv.out)
  return writer.manifest


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  run_with_flags(flags.FLAGS)


def json_safe(value):
  """Tuples to lists and NumPy scalars to Python, recursively (what JSON round-trips to)."""
  if isinstance(value, dict):
    return {str(k): json_safe(v) for k, v in value.items()}
  if isinstance(value, (list, tuple)):
    return [json_safe(v) for v in value]
  if isinstance(value, np.generic):
    return value.item()
  return value


if __name__ == "__main__":
  define_flags()
  app.run(main)
