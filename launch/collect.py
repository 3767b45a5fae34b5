r"""Collects environment-model training data: a trained agent (or, if asked, a random policy) playing.

The paper fits its environment models to trajectories of a partially trained model-free agent; a random
agent sees too few rewards (spec 2.1, paper Sec. 3.2). So the usual source is an agent checkpoint of
`launch.train`, named together with the flags (or flag file) it was trained with:

  python -m launch.collect --flagfile=launch/configs/pipeline_minipacman_1_agent.flags \
      --agent_checkpoint=runs/pipeline_minipacman_agent --num_transitions=1000000 --out=data/minipacman
  python -m launch.collect --env=minipacman --random_policy --num_transitions=100000 --out=/tmp/mp

The game, environment and agent flags are launch.train's. Rerunning with the same --out continues the
collection (new shards, no duplicates) up to --num_transitions; interrupting it loses at most the shard
being filled. See i2a/model_pipeline/data.py for the format.
"""
import dataclasses
import os
from typing import Optional

from absl import app
from absl import flags
from absl import logging
import numpy as np
import tensorflow as tf

from i2a.training import checkpointing
from i2a.training import environments
from i2a.model_pipeline import collection
from i2a.model_pipeline import data as model_data
from i2a import factory
from i2a.training import learner as learner_lib
from i2a.training import loop
from launch import train

FIRST = collection.FIRST
SESSION_SEED_STRIDE = collection.SESSION_SEED_STRIDE
# Moved to the library (i2a/model_pipeline/collection.py); the names stay here for callers.
RandomPolicy, AgentPolicy, Progress = collection.RandomPolicy, collection.AgentPolicy, collection.Progress
collect, data_header, json_safe = collection.collect, collection.data_header, collection.json_safe


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


def load_agent(config: loop.TrainConfig, prefix: str):
  """The agent of `config` with the weights of a launch.train checkpoint (its Checkpointer layout:
  agent, optimizer, learner_step, num_frames); CheckpointError if it is another agent's."""
  agent = factory.build_agent(dataclasses.replace(config.agent, seed=config.seed))
  learner = learner_lib.Learner(agent, config.learner)  # Builds the variables the checkpoint holds.
  checkpointing.Checkpointer(os.path.dirname(prefix), **learner.trackables()).restore(prefix)
  return agent


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
    prefix = None if fv.random_policy else resolve_agent_checkpoint(fv.agent_checkpoint)
  except ValueError as e:
    raise app.UsageError(str(e)) from e
  seed = config.seed
  if seed is None:  # --seed=-1: a fresh seed, or the one of the collection being continued.
    existing = os.path.join(fv.out, model_data.MANIFEST)
    seed = (model_data.read_manifest(fv.out)["seed"] if os.path.exists(existing)
            else int(np.random.SeedSequence().entropy % 2**31))
  policy_name = "random" if prefix is None else {"agent_checkpoint": os.path.abspath(prefix),
                                                 "agent": dataclasses.asdict(config.agent)}
  try:
    writer = model_data.ShardWriter(fv.out, data_header(config.env, policy_name, seed))
  except ValueError as e:  # --out holds another game's, policy's or seed's data.
    raise app.UsageError(str(e)) from e
  try:
    if writer.removed:
      logging.info("Removed files of an interrupted collection: %s", writer.removed)
    session_seed = seed + SESSION_SEED_STRIDE * writer.num_shards
    env = environments.build_env(config.env, fv.num_envs, seed=session_seed)
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
                    writer.num_shards, os.path.join(fv.out, model_data.MANIFEST))
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




if __name__ == "__main__":
  define_flags()
  app.run(main)
