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

from i2a import actor as actor_lib
from i2a import configs
from i2a import env_factory
from i2a import factory
from i2a import queues


@dataclasses.dataclass(frozen=True)
class ActorBuilder:
  """A picklable recipe for actor `actor_id`: its own agent copy and its own environment copies.

  Attributes:
    agent: the agent's config (the actors' copies take their weights from the learner).
    env: the environment's config.
    envs_per_actor: N, environment copies stepped together by one actor.
    unroll_length: T.
    seed: base seed; actor i seeds its environments from `seed + 1000 * (i + 1)` and its sampling
      from `seed + i + 1` (None: unseeded).
    ship_imagination: actors send their imagined rollouts for the learner to reuse (i2a/imagination.py).
    jit_compile: actors compile their policy step with XLA.
  """
  agent: configs.AgentConfig
  env: env_factory.EnvConfig
  envs_per_actor: int
  unroll_length: int
  seed: Optional[int] = None
  ship_imagination: bool = False
  jit_compile: bool = False

  def __call__(self, actor_id: int, source: Optional[actor_lib.VariableSource]) -> actor_lib.Actor:
    seeded = self.seed is not None
    agent_config = dataclasses.replace(self.agent, seed=self.seed + actor_id + 1 if seeded else None)
    agent = factory.build_agent(agent_config)
    env = env_factory.build_env(self.env, self.envs_per_actor,
                                seed=self.seed + 1000 * (actor_id + 1) if seeded else None)
    return actor_lib.Actor(agent, env, self.unroll_length, source, actor_id=actor_id,
                           ship_imagination=self.ship_imagination, jit_compile=self.jit_compile)


class Backend(abc.ABC):
  """Runs `num_actors` actors that put `ActorOutput`s into `unroll_queue`."""

  def __init__(self, queue_size: int):
    self.unroll_queue = queues.UnrollQueue(queue_size)
    self.actor_restarts = 0  # How many times an actor died and was replaced.

  @abc.abstractmethod
  def start(self) -> None:
    """Starts the actors; call `publish` once before, so they start from the learner's weights."""

  @abc.abstractmethod
  def publish(self, weights: Sequence[np.ndarray], step: int) -> None:
    """Makes `weights` (ordered as `actor.policy_variables`) of learner step `step` the newest."""

  @abc.abstractmethod
  def stop(self) -> None:
    """Stops the actors and closes the queue (idempotent)."""

  def __enter__(self):
    return self

  def __exit__(self, *unused_exc):
    self.stop()
