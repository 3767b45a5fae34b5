"""Every random stream of a training run, derived in one place from (run seed, session, role, actor, stream).

A run has one seed. Each stream that draws random numbers gets its own seed from NumPy's
`SeedSequence(run_seed, spawn_key=(session, role, actor_id, stream))`, the documented way to give
independent children of one seed: distinct keys hash to unrelated states, so no two streams share draws
(the old arithmetic, `seed + actor_id + 1` for actor i's actions and `seed + 1` for the rollout
policy, made actor i's rollout policy and actor i+1's action sampler draw the same numbers).

The streams:
- per actor: 'environment' (levels, ghosts), 'action_sampling' (the agent's `Sampler`) and
  'rollout_policy' (the rollout policy's `Sampler`, paper Sec. 3.1: `rollout_policy_seed` of the
  action-sampling seed, below);
- the learner's agent: 'action_sampling' and its 'rollout_policy' child (its samples are never
  executed, yet its samplers are checkpointed with it).

Evaluations (`launch.evaluate --seed`) keep their own seeding (i2a/training/evaluation.py), so the
shipped models' evaluations stay reproducible.

The agent's two samplers are one `AgentConfig.seed`: the factory gives the action sampler that seed
and the rollout policy `rollout_policy_seed(seed)`, a child stream of it, so every agent built from a
config, in any binary, has two independent samplers. Seeds are 31-bit: every seed argument takes them.

    env_seed, agent_seed = seeds.actor(run_seed, session, actor_id)
    agent = factory.build_agent(dataclasses.replace(config, seed=agent_seed))  # + rollout_policy_seed
"""
from typing import NamedTuple, Optional

import numpy as np

ROLES = ("actor", "learner")
STREAMS = ("environment", "action_sampling", "rollout_policy")


def derive(run_seed: int, role: str, stream: str, session: int = 0, actor_id: int = 0) -> int:
  """The 31-bit seed of one stream.

  Args:
    run_seed: the run's seed, >= 0.
    role: one of ROLES.
    stream: one of STREAMS.
    session: which start of the run (0 for a fresh run; the training loop numbers a resumed session by
      the frame count it resumed from), >= 0.
    actor_id: the actor (or central-inference worker), >= 0; 0 for the learner.

  Raises:
    ValueError: an unknown role or stream, or a negative number.
  """
  if role not in ROLES or stream not in STREAMS:
    raise ValueError(f"seeds.derive: role must be one of {ROLES} and stream one of {STREAMS}, got "
                     f"{role!r}, {stream!r}.")
  if min(run_seed, session, actor_id) < 0:
    raise ValueError(f"seeds.derive: run_seed, session and actor_id must be >= 0, got {run_seed}, "
                     f"{session}, {actor_id}.")
  key = (session, ROLES.index(role), actor_id, STREAMS.index(stream))
  state = np.random.SeedSequence(run_seed, spawn_key=key).generate_state(1, np.uint32)
  return int(state[0]) >> 1


def rollout_policy_seed(agent_seed: Optional[int]) -> Optional[int]:
  """The rollout policy's seed, a child stream of the agent's `AgentConfig.seed` (None: unseeded)."""
  if agent_seed is None:
    return None
  state = np.random.SeedSequence(agent_seed, spawn_key=(STREAMS.index("rollout_policy"),))
  return int(state.generate_state(1, np.uint32)[0]) >> 1


class ActorSeeds(NamedTuple):
  """One actor's seeds: `environment` for its environment copies, `agent` for its `AgentConfig.seed`
  (its action sampler; its rollout policy takes `rollout_policy_seed(agent)`)."""
  environment: Optional[int]
  agent: Optional[int]


def actor(run_seed: Optional[int], session: int, actor_id: int) -> ActorSeeds:
  """Actor `actor_id`'s seeds in `session`; both None for an unseeded run."""
  if run_seed is None:
    return ActorSeeds(None, None)
  return ActorSeeds(derive(run_seed, "actor", "environment", session, actor_id),
                    derive(run_seed, "actor", "action_sampling", session, actor_id))


def learner(run_seed: Optional[int], session: int = 0) -> Optional[int]:
  """The learner's `AgentConfig.seed` (and the central server's own agent's) in `session`."""
  return None if run_seed is None else derive(run_seed, "learner", "action_sampling", session)


def run_streams(run_seed: int, num_actors: int, session: int = 0) -> dict[str, int]:
  """Every stream of a run with `num_actors` actors, by name: what must be pairwise distinct."""
  streams = {}
  for i in range(num_actors):
    env_seed, agent_seed = actor(run_seed, session, i)
    streams.update({f"actor{i}/environment": env_seed, f"actor{i}/action_sampling": agent_seed,
                    f"actor{i}/rollout_policy": rollout_policy_seed(agent_seed)})
  learner_seed = learner(run_seed, session)
  streams.update({"learner/action_sampling": learner_seed,
                  "learner/rollout_policy": rollout_policy_seed(learner_seed)})
  return streams
