r"""Collects environment-model training data: a trained agent (or, if asked, a random policy) playing.

The paper fits its environment models to trajectories of a partially trained model-free agent; a random
agent sees too few rewards (paper Sec. 3.2). So the usual source is an agent checkpoint of
`launch.train`, named together with the flags (or flag file) it was trained with:

  python -m launch.collect --flagfile=launch/configs/pipeline_minipacman_1_agent.flags \
      --agent_checkpoint=runs/pipeline_minipacman_agent --num_transitions=1000000 --out=data/minipacman
  python -m launch.collect --env=minipacman --random_policy --num_transitions=100000 --out=/tmp/mp

The game, environment and agent flags are the experiment flags (launch/common_flags.py). Rerunning with
the same --out continues the collection (new shards, no duplicates) up to --num_transitions;
interrupting it loses at most the shard being filled. See i2a/model_pipeline/data.py for the format.
"""
import dataclasses
import os

from absl import app
from absl import flags
from absl import logging
import numpy as np

from i2a.model_pipeline import collection
from i2a.model_pipeline import data as model_data
from i2a.training import checkpointing
from i2a.training import environments
from i2a.training import inference
from launch import common_flags
from launch import run_configs

common_flags.declare_key_flags(common_flags.EXPERIMENT_FLAGS + ("agent_checkpoint", "out", "num_envs"))
flags.DEFINE_bool("random_policy", False, "Play uniformly random actions instead of an agent.")
flags.DEFINE_integer("num_transitions", None, "Environment steps to collect in total (rounded up to "
                     "whole shards; a rerun continues up to this count).", lower_bound=1)
flags.DEFINE_integer("shard_size", 4096, "Environment steps per shard (a multiple of --num_envs).",
                     lower_bound=1)


def check_policy_choice(random_policy: bool, agent_checkpoint: str | None) -> None:
  """Raises ValueError unless exactly one policy is asked for: random play is never a silent default."""
  if random_policy == bool(agent_checkpoint):
    raise ValueError("Give exactly one of --agent_checkpoint (the paper's choice: a partially trained "
                     "agent) and --random_policy.")


def agent_prefix(path: str) -> str:
  """The checkpoint prefix --agent_checkpoint names; ValueError naming the flag if there is none."""
  try:
    return inference.resolve_checkpoint(path)
  except ValueError as e:
    raise ValueError(f"--agent_checkpoint={e}") from e


def run_with_flags(fv: flags.FlagValues) -> dict:
  """The binary's work, from parsed flags; returns the manifest.

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
    if fv.agent_checkpoint:  # The agent's own run config, stored by launch.train, rebuilds it.
      config = run_configs.stored_train_config(fv, run_configs.logdir_of_checkpoint(fv.agent_checkpoint))
    else:
      config = run_configs.train_config_from_flags(fv)
    # The data must be a function of the seed: the Sokoban level supply waits rather than replays.
    config = dataclasses.replace(config, env=dataclasses.replace(config.env, level_when_dry="wait"))
    prefix = None if fv.random_policy else agent_prefix(fv.agent_checkpoint)
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
    writer = model_data.ShardWriter(fv.out, collection.data_header(config.geometry, config.env, policy_name, seed))
  except ValueError as e:  # --out holds another game's, policy's or seed's data.
    raise app.UsageError(str(e)) from e
  try:
    if writer.removed:
      logging.info("Removed files of an interrupted collection: %s", writer.removed)
    session_seed = seed + collection.SESSION_SEED_STRIDE * writer.num_shards
    env = environments.build_env(config.geometry, config.env, fv.num_envs, seed=session_seed)
    if prefix is None:
      policy = inference.UniformActions(env.num_actions, session_seed)
    else:
      try:
        agent = inference.restore_agent(config.agent, prefix, seed=session_seed,
                                        discount=config.learner.discount).agent
      except checkpointing.CheckpointError as e:
        raise app.UsageError(str(e)) from e
      policy = inference.AgentActions(agent, fv.num_envs)
    logging.info("Collecting %s steps into %s (%s already there), session seed %d.", fv.num_transitions,
                 fv.out, writer.num_steps, session_seed)
    collection.collect(env, policy, writer, fv.num_transitions, fv.shard_size,
                       collection.Progress(fv.num_transitions, writer.num_steps), session_seed=session_seed)
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
  common_flags.run_main(main)
