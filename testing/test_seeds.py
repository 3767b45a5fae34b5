"""Every random stream of a run is derived in one place (i2a/seeds.py), deterministically, and no two
streams of a run share a seed."""
import dataclasses

import numpy as np
import pytest

from i2a import configs
from i2a import factory
from i2a import seeds
from i2a.training import backends
from i2a.training import environments


@pytest.mark.parametrize("run_seed", [0, 1, 7, 2**31 - 1], ids=["zero", "one", "seven", "largest"])
@pytest.mark.parametrize("session", [0, 40_000], ids=["fresh", "resumed"])
def test_every_stream_of_an_eight_actor_run_is_distinct(run_seed, session):
  streams = seeds.run_streams(run_seed, num_actors=8, session=session)
  assert len(streams) == 8 * 3 + 2
  assert len(set(streams.values())) == len(streams), streams
  assert all(isinstance(s, int) and 0 <= s < 2**31 for s in streams.values())


def test_the_old_collision_is_gone():
  # Before: actor i sampled with seed + i + 1 and its rollout policy with (seed + i + 1) + 1, which was
  # actor i+1's action seed.
  first, second = seeds.actor(0, 0, 0), seeds.actor(0, 0, 1)
  assert seeds.rollout_policy_seed(first.agent) != second.agent


def test_the_derivation_is_deterministic_and_depends_on_every_part():
  reference = seeds.derive(3, "actor", "environment", session=5, actor_id=2)
  assert reference == seeds.derive(3, "actor", "environment", session=5, actor_id=2)
  variations = [seeds.derive(4, "actor", "environment", 5, 2), seeds.derive(3, "learner", "environment", 5, 2),
                seeds.derive(3, "actor", "action_sampling", 5, 2), seeds.derive(3, "actor", "environment", 6, 2),
                seeds.derive(3, "actor", "environment", 5, 3)]
  assert reference not in variations and len(set(variations)) == len(variations)


def test_the_derivation_is_numpys_seed_sequence():
  # A NumPy reference: SeedSequence(run seed, spawn_key=(session, role, actor, stream)), 31 bits.
  expected = np.random.SeedSequence(11, spawn_key=(2, 0, 3, 1)).generate_state(1, np.uint32)[0] >> 1
  assert seeds.derive(11, "actor", "action_sampling", session=2, actor_id=3) == int(expected)


def test_unseeded_runs_stay_unseeded():
  assert seeds.actor(None, 0, 3) == (None, None)
  assert seeds.learner(None) is None and seeds.rollout_policy_seed(None) is None


@pytest.mark.parametrize("bad", [dict(role="critic"), dict(stream="ghosts"), dict(run_seed=-1),
                                 dict(actor_id=-2)], ids=["role", "stream", "negative_seed", "negative_actor"])
def test_bad_stream_names_and_numbers_are_refused(bad):
  args = dict(run_seed=1, role="actor", stream="environment", session=0, actor_id=0) | bad
  with pytest.raises(ValueError, match="seeds.derive"):
    seeds.derive(**args)


def test_the_actor_builder_and_the_factory_use_the_derived_seeds():
  config = configs.AgentConfig(game="minipacman", variant="i2a", rollout_depth=1)
  builder = backends.ActorBuilder(config, environments.EnvConfig(), 2, 1, seed=9, session=3)
  assert builder.seeds(4) == seeds.actor(9, 3, 4)
  agent_seed = builder.seeds(4).agent
  agent = factory.build_agent(dataclasses.replace(config, seed=agent_seed))
  # Each Sampler holds (seed, draws so far) (i2a/sampling.py).
  assert int(agent._sampler.state.numpy()[0]) == agent_seed  # pylint: disable=protected-access
  rollout_sampler = agent.rollout_policy._sampler  # pylint: disable=protected-access
  assert int(rollout_sampler.state.numpy()[0]) == seeds.rollout_policy_seed(agent_seed)
