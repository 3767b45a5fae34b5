r"""Collects environment-model training data: a trained agent (or, if asked, a random policy) playing.

The paper fits its environment models to trajectories of a partially trained model-free agent; a random
agent sees too few rewards (paper Sec. 3.2). So the usual source is an agent checkpoint of
`launch.train`, named together with the flags (or flag file) it was trained with:

  python -m launch.collect --flagfile=launch/configs/pipeline_minipacman_1_agent.flags \
      --agent_checkpoint=runs/pipeline_minipacman_agent --num_transitions=1000000 --output_dir=data/minipacman
  python -m launch.collect --game=minipacman --random_policy --num_transitions=100000 --output_dir=/tmp/mp

The game, environment and agent flags are those of a training run (launch/config_flags.py). Rerunning with
the same --output_dir continues the collection (new shards, no duplicates) up to --num_transitions;
interrupting it loses at most the shard being filled. See i2a/model_pipeline/data.py for the format.
"""
import dataclasses
import os
from typing import NamedTuple, Optional

from absl import app
from absl import flags
from absl import logging
import numpy as np

from i2a.model_pipeline import collection
from i2a.model_pipeline import data as model_data
from i2a.model_pipeline import hunter
from i2a.model_pipeline import mixture
from i2a.training import checkpointing
from i2a.training import environments
from i2a.training import inference
from i2a.training import stored_config
from launch import common_flags
from launch import config_flags
from launch import flags_to_config

config_flags.define()
common_flags.define("agent_checkpoint", "output_dir", "num_envs")
flags.DEFINE_bool("random_policy", False, "Play uniformly random actions instead of an agent.")
flags.DEFINE_integer("num_transitions", None, "Environment steps to collect in total (rounded up to "
                     "whole shards; a rerun continues up to this count).", lower_bound=1)
flags.DEFINE_integer("shard_size", 4096, "Environment steps per shard (a multiple of --num_envs).",
                     lower_bound=1)
flags.DEFINE_list("mixture", None, "Play a mixture instead: SOURCE=FRACTION items, SOURCE 'random', "
                  "'hunter' (MiniPacman: eats pills, then ghosts) or an agent checkpoint; each plays its "
                  "fraction of the --num_envs copies (i2a/model_pipeline/mixture.py).")


def check_policy_choice(random_policy: bool, agent_checkpoint: str | None, mixture=None) -> None:
  """Raises ValueError unless exactly one policy is asked for: random play is never a silent default."""
  if int(random_policy) + int(bool(agent_checkpoint)) + int(bool(mixture)) != 1:
    raise ValueError("Give exactly one of --agent_checkpoint (the paper's choice: a partially trained "
                     "agent), --random_policy and --mixture.")


def agent_prefix(path: str) -> str:
  """The checkpoint prefix --agent_checkpoint names; ValueError naming the flag if there is none."""
  try:
    return inference.resolve_checkpoint(path)
  except ValueError as e:
    raise ValueError(f"--agent_checkpoint={e}") from e


class _Source(NamedTuple):
  """A mixture source resolved: its checkpoint prefix and run config (agents only), its copies."""
  source: mixture.MixtureSource
  copies: tuple[int, int]
  prefix: Optional[str]
  config: Optional[object]

  @property
  def record(self) -> dict:  # What the manifest says of it (its identity: a rerun must agree).
    agent = {} if self.prefix is None else {"agent_checkpoint": os.path.abspath(self.prefix),
                                            "agent": dataclasses.asdict(self.config.agent),
                                            "trained_on": self.config.geometry.task}
    return dict(source=self.source.source, fraction=self.source.fraction, copies=list(self.copies), **agent)


def mixture_sources(fv: flags.FlagValues, config) -> list[_Source]:
  """--mixture resolved against the data's game (`config`); ValueError naming what does not fit."""
  sources = mixture.parse_mixture(fv.mixture)
  ranges = mixture.copy_ranges(mixture.copies_per_source([s.fraction for s in sources], fv.num_envs))
  resolved = []
  for source, copies in zip(sources, ranges):
    prefix = stored = None
    if source.source == mixture.HUNTER and config.geometry.game != "minipacman":
      raise ValueError("--mixture source 'hunter' plays MiniPacman only.")
    if source.is_agent:
      prefix = agent_prefix(source.source)
      stored = stored_config.load(flags_to_config.logdir_of_checkpoint(source.source))
      if stored is None or stored.geometry.game != config.geometry.game:
        raise ValueError(f"--mixture agent {source.source!r} has no stored config.json of a "
                         f"{config.geometry.game} agent (train it with launch.train).")
    resolved.append(_Source(source, copies, prefix, stored))
  return resolved


def mixture_policy(sources: list[_Source], num_actions: int, seed: int, discount: float):
  """The mixture's policy: each source on its copies, each seeded from `seed` and its index."""
  policies = []
  for i, s in enumerate(sources):
    count, source_seed = s.copies[1] - s.copies[0], seed + 7919 * (i + 1)
    if s.source.source == mixture.RANDOM:
      policies.append(inference.UniformActions(num_actions, source_seed))
    elif s.source.source == mixture.HUNTER:
      policies.append(hunter.GhostHunter(source_seed))
    else:
      try:
        agent = inference.restore_agent(s.config.agent, s.prefix, seed=source_seed, discount=discount).agent
      except checkpointing.CheckpointError as e:
        raise app.UsageError(str(e)) from e
      policies.append(inference.AgentActions(agent, count))
  return mixture.MixedPolicy(policies, [s.copies[1] - s.copies[0] for s in sources])


def run_with_flags(fv: flags.FlagValues) -> dict:
  """The binary's work, from parsed flags; returns the manifest.

  Raises:
    app.UsageError: bad flags (before anything is written).
  """
  try:
    check_policy_choice(fv.random_policy, fv.agent_checkpoint, fv.mixture)
    for name in ("num_transitions", "output_dir"):
      if fv[name].value is None:
        raise ValueError(f"--{name} is required.")
    if fv.shard_size % fv.num_envs:
      raise ValueError(f"--shard_size={fv.shard_size} must be a multiple of --num_envs={fv.num_envs}.")
    if fv.agent_checkpoint:  # The agent's own run config, stored by launch.train, rebuilds it.
      config = flags_to_config.stored_train_config(fv, flags_to_config.logdir_of_checkpoint(fv.agent_checkpoint))
    else:
      config = flags_to_config.train_config_from_flags(fv)
    # The data must be a function of the seed: the Sokoban level supply waits rather than replays.
    config = dataclasses.replace(config, env=dataclasses.replace(config.env, level_when_dry="wait"))
    prefix = agent_prefix(fv.agent_checkpoint) if fv.agent_checkpoint else None
    sources = mixture_sources(fv, config) if fv.mixture else None
  except ValueError as e:
    raise app.UsageError(str(e)) from e
  seed = config.seed
  if seed is None:  # --seed=unset: a fresh seed, or the one of the collection being continued.
    existing = os.path.join(fv.output_dir, model_data.MANIFEST)
    seed = (model_data.read_manifest(fv.output_dir)["seed"] if os.path.exists(existing)
            else int(np.random.SeedSequence().entropy % 2**31))
  policy_name = "random" if prefix is None else {"agent_checkpoint": os.path.abspath(prefix),
                                                 "agent": dataclasses.asdict(config.agent)}
  if sources is not None:
    policy_name = {"mixture": [s.record for s in sources]}
  try:
    writer = model_data.ShardWriter(fv.output_dir, collection.data_header(config.geometry, config.env, policy_name, seed))
  except ValueError as e:  # --output_dir holds another game's, policy's or seed's data.
    raise app.UsageError(str(e)) from e
  try:
    if writer.removed:
      logging.info("Removed files of an interrupted collection: %s", writer.removed)
    session_seed = seed + collection.SESSION_SEED_STRIDE * writer.num_shards
    env = environments.build_env(config.geometry, config.env, fv.num_envs, seed=session_seed)
    if sources is not None:
      policy = mixture_policy(sources, env.num_actions, session_seed, config.learner.discount)
    elif prefix is None:
      policy = inference.UniformActions(env.num_actions, session_seed)
    else:
      try:
        agent = inference.restore_agent(config.agent, prefix, seed=session_seed,
                                        discount=config.learner.discount).agent
      except checkpointing.CheckpointError as e:
        raise app.UsageError(str(e)) from e
      policy = inference.AgentActions(agent, fv.num_envs)
    logging.info("Collecting %s steps into %s (%s already there), session seed %d.", fv.num_transitions,
                 fv.output_dir, writer.num_steps, session_seed)
    collection.collect(env, policy, writer, fv.num_transitions, fv.shard_size,
                       collection.Progress(fv.num_transitions, writer.num_steps), session_seed=session_seed)
  except KeyboardInterrupt:
    logging.warning("Interrupted: %d complete shards are listed in %s; rerun to continue.",
                    writer.num_shards, os.path.join(fv.output_dir, model_data.MANIFEST))
    raise
  finally:
    writer.close()
  logging.info("Done: %s shards, %s steps, %s valid transitions in %s.", writer.num_shards,
               writer.num_steps, writer.manifest["num_transitions"], fv.output_dir)
  return writer.manifest


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  run_with_flags(flags.FLAGS)


if __name__ == "__main__":
  common_flags.run_main(main)
