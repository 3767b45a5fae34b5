"""Transports that run actors and bring their unrolls to the learner: local threads or Ray actors.

Every backend has the same small interface, so the training loop is the same for both:

    backend.start()                       # Actors begin producing into backend.unroll_queue.
    while training:
      backend.publish(weights, step)      # Actors pick these up between unrolls.
      batch, parts = batcher.next_batch()
    backend.stop()
"""
import abc
import dataclasses
from typing import Optional, Sequence

import numpy as np

from i2a.training import actor as actor_lib
from i2a import configs
from i2a.training import environments
from i2a import factory
from i2a import rl_losses
from i2a import seeds as seeds_lib
from i2a.training import queues


@dataclasses.dataclass(frozen=True)
class ActorBuilder:
  """A picklable recipe for actor `actor_id`: its own agent copy and its own environment copies.

  Attributes:
    agent: the agent's config (the actors' copies take their weights from the learner); its geometry
      is the environment's.
    env: the environment's config.
    envs_per_actor: N, environment copies stepped together by one actor.
    unroll_length: T.
    seed: the run's seed; actor i's environment, action-sampling and rollout-policy seeds derive from
      (seed, session, i) in `i2a.seeds` (None: unseeded).
    session: which start of the run this is, as a number the checkpoint keeps (the training loop
      passes the frame count it resumed from; 0 for a fresh run). Seeds depend on it, so a resume
      continues with new levels and ghosts instead of replaying the first session's, and resuming the
      same checkpoint twice replays the same ones.
    ship_imagination: actors send their imagined rollouts for the learner to reuse (i2a/imagined.py).
    jit_compile: actors compile their policy step with XLA.
    discount: the learner's gamma, which the Monte Carlo agent's imagined returns use too.
  """
  agent: configs.AgentConfig
  env: environments.EnvConfig
  envs_per_actor: int
  unroll_length: int
  seed: Optional[int] = None
  session: int = 0
  ship_imagination: bool = False
  jit_compile: bool = False
  discount: float = rl_losses.DISCOUNT

  def seeds(self, actor_id: int) -> tuple[Optional[int], Optional[int]]:
    """(environment seed, agent seed) of actor `actor_id` in this session (`i2a.seeds.actor`)."""
    return seeds_lib.actor(self.seed, self.session, actor_id)

  def __call__(self, actor_id: int, source: Optional[actor_lib.VariableSource]) -> actor_lib.Actor:
    env_seed, agent_seed = self.seeds(actor_id)
    agent = factory.build_agent(dataclasses.replace(self.agent, seed=agent_seed), discount=self.discount)
    env = environments.build_env(self.agent.geometry, self.env, self.envs_per_actor, seed=env_seed)
    return actor_lib.Actor(agent, env, self.unroll_length, source, actor_id=actor_id,
                           ship_imagination=self.ship_imagination, jit_compile=self.jit_compile)


class Backend(abc.ABC):
  """Runs `num_actors` actors that put `ActorOutput`s into `unroll_queue`.

  Args:
    queue_size: unrolls buffered between the actors and the learner.
  """

  def __init__(self, queue_size: int):
    self.unroll_queue = queues.UnrollQueue(queue_size)
    self.actor_restarts = 0  # How many times an actor died and was replaced.

  @abc.abstractmethod
  def start(self) -> None:
    """Starts the actors; call `publish` once before, so they start from the learner's weights."""

  # Whether `publish` takes the learner's own variables (a server in the learner's process, which copies
  # them on its device: central inference) rather than NumPy copies (actors that may be elsewhere).
  takes_variables: bool = False

  @abc.abstractmethod
  def publish(self, weights: Sequence[np.ndarray], step: int) -> None:
    """Makes `weights` (ordered as `Agent.policy_variables`) of learner step `step` the newest: NumPy
    arrays, or the learner's `tf.Variable`s if `takes_variables`."""

  def scalars(self) -> dict:
    """Transport statistics since the last call, for the progress scalars (none by default; central
    inference reports its batch size and request wait)."""
    return {}

  @abc.abstractmethod
  def stop(self) -> None:
    """Stops the actors and closes the queue (idempotent)."""

  def __enter__(self):
    return self

  def __exit__(self, *unused_exc):
    self.stop()
