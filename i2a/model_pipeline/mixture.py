"""Environment-model data from a mixture of policies, each playing a set fraction of the steps.

The paper fits its models to trajectories of a partially trained model-free agent (paper Sec. 3.2), and
one MiniPacman model serves all five tasks (paper Sec. 5). An agent trained on 'regular' rarely eats a
ghost (38 in 253,952 steps in our study, results/README.md section 2), so a model fitted to its play
never learns that event, which is what Hunt and Ambush pay for. A mixture gives every event its share:
each source plays its own fixed set of the N environment copies, so it plays exactly copies/N of the
steps (WORKSPACE.md, deviation 46).

    sources = mixture.parse_mixture(["runs/agent_regular=0.5", "hunter=0.25", "random=0.25"])
    counts = mixture.copies_per_source([s.fraction for s in sources], num_envs)
    policy = mixture.MixedPolicy([policy_of(s) for s in sources], counts)
    collection.collect(env, policy, writer, ...)   # `policy(timestep)` -> int32 [N]
"""
import dataclasses
from typing import Callable, Sequence

import numpy as np

from envs import batched

RANDOM = "random"  # A source name: uniformly random actions.
HUNTER = "hunter"  # A source name: `hunter.GhostHunter`, which eats pills, then chases edible ghosts.
SCRIPTED = (RANDOM, HUNTER)


@dataclasses.dataclass(frozen=True)
class MixtureSource:
  """One policy of a mixture.

  Attributes:
    source: 'random', 'hunter', or the path of an agent checkpoint (a launch.train logdir).
    fraction: the share of the collected steps this policy plays, in (0, 1].
  """
  source: str
  fraction: float

  def __post_init__(self):
    if not self.source:
      raise ValueError("A mixture source needs a name: 'random', 'hunter' or an agent checkpoint.")
    if not 0.0 < self.fraction <= 1.0:
      raise ValueError(f"The mixture fraction of {self.source!r} must be in (0, 1], got {self.fraction}.")

  @property
  def is_agent(self) -> bool:
    return self.source not in SCRIPTED


def parse_mixture(items: Sequence[str]) -> list[MixtureSource]:
  """['SOURCE=FRACTION', ...] -> sources; ValueError unless every item has that form and the
  fractions sum to 1 (within 1e-6)."""
  sources = []
  for item in items:
    source, sep, fraction = item.rpartition("=")
    try:
      value = float(fraction)
    except ValueError:
      value = None
    if not sep or value is None:
      raise ValueError(f"--mixture item {item!r} is not SOURCE=FRACTION (SOURCE 'random', 'hunter' or an "
                       "agent checkpoint; e.g. runs/agent=0.5,hunter=0.25,random=0.25).")
    sources.append(MixtureSource(source, value))
  names = [s.source for s in sources]
  if len(set(names)) != len(names):
    raise ValueError(f"--mixture names a source twice: {names}.")
  total = sum(s.fraction for s in sources)
  if not sources or abs(total - 1.0) > 1e-6:
    raise ValueError(f"The --mixture fractions must sum to 1, got {total:g} ({items}).")
  return sources


def copies_per_source(fractions: Sequence[float], num_envs: int) -> list[int]:
  """How many of the N copies each source plays: fraction * N, which must be a whole number >= 1, so
  that every source plays exactly its fraction of the steps.

  Raises:
    ValueError: a fraction that is not a multiple of 1/N, naming the nearest --num_envs that works.
  """
  counts = [fraction * num_envs for fraction in fractions]
  if any(abs(c - round(c)) > 1e-6 or round(c) < 1 for c in counts):
    denominators = [next(d for d in range(1, 10_001) if abs(f * d - round(f * d)) < 1e-6) for f in fractions]
    need = int(np.lcm.reduce(denominators))
    raise ValueError(f"The mixture fractions {list(fractions)} times --num_envs={num_envs} are not whole "
                     f"numbers of environment copies; use a multiple of {need} for --num_envs.")
  return [int(round(c)) for c in counts]


def copy_ranges(counts: Sequence[int]) -> list[tuple[int, int]]:
  """[start, stop) of each source's copies, in order: [2, 1, 1] -> [(0, 2), (2, 3), (3, 4)]."""
  stops = np.cumsum(counts).tolist()
  return [(stop - count, stop) for count, stop in zip(counts, stops)]


def _part(timestep: batched.BatchedTimeStep, start: int, stop: int) -> batched.BatchedTimeStep:
  return batched.BatchedTimeStep(
      step_type=timestep.step_type[start:stop], reward=timestep.reward[start:stop],
      discount=timestep.discount[start:stop],
      observation={k: v[start:stop] for k, v in timestep.observation.items()})


class MixedPolicy:
  """Plays policy i on its own copies [start_i, stop_i) of a batched environment.

  Args:
    policies: one `timestep of its copies -> int32 [n_i]` per source (each keeps its own state, e.g.
      `inference.AgentActions(agent, n_i)`).
    counts: n_i, the copies of each source, in the order of the environment's copies.
  """

  def __init__(self, policies: Sequence[Callable[[batched.BatchedTimeStep], np.ndarray]],
               counts: Sequence[int]):
    if len(policies) != len(counts) or not policies:
      raise ValueError(f"MixedPolicy needs one count per policy, got {len(policies)} and {len(counts)}.")
    self._policies, self._ranges = list(policies), copy_ranges(counts)
    self.num_envs = int(sum(counts))

  def __call__(self, timestep: batched.BatchedTimeStep) -> np.ndarray:
    """int32 [N]: each source's actions for its copies."""
    if len(timestep.step_type) != self.num_envs:
      raise ValueError(f"MixedPolicy plays {self.num_envs} copies, got a timestep of "
                       f"{len(timestep.step_type)}.")
    return np.concatenate([np.asarray(policy(_part(timestep, *r)), np.int32)
                           for policy, r in zip(self._policies, self._ranges)])
