"""Building the central server and the environment workers from a run's `ActorBuilder`.

The server's agent is the learner's config with the run's seed, on the learner's device; it acts with
published weights only. Worker k's environments get actor k's environment seed, and the server's
stream k gets actor k's sampling seed (`ActorBuilder.seeds`), so central inference meets the same
levels and draws the same samples as per-actor inference of the same run.
"""
import dataclasses
from typing import Callable, Optional, Sequence

import dm_env
import numpy as np
import tensorflow as tf

from envs import batched
from i2a import agent_core
from i2a import agent_interface
from i2a import factory
from i2a.training import actor as actor_lib
from i2a.training import backends
from i2a.training import device as device_lib
from i2a.training import environments
from i2a.training import inference
from i2a.training.central import server as server_lib
from i2a.training.central import streams


def warm_up(agent: agent_interface.Agent) -> None:
  """What `Actor.unroll` does with a new agent before its first real step: one policy step (which
  builds the variables) and the rollout policy's build. Only the number of sampler calls matters."""
  step = inference.PolicyStep(agent)
  frame = np.zeros([1, agent.height, agent.width, 3], np.uint8)
  timestep = batched.BatchedTimeStep(np.full(1, int(dm_env.StepType.FIRST), np.int32), np.zeros(1, np.float32),
                                     np.ones(1, np.float32), {"rgb": frame})
  step.step_and_imagination(timestep, step.initial_state(1))
  agent_core.build_rollout_policy(agent)


def build_server(make_agent: Callable[[Optional[int]], agent_interface.Agent], server_seed: Optional[int],
                 worker_seeds: Sequence[Optional[int]], envs_per_worker: int, unroll_length: int,
                 emit: Callable[[actor_lib.ActorOutput], bool], ship_imagination: bool = False,
                 jit_compile: bool = False, device: Optional[str] = None,
                 **batching) -> server_lib.InferenceServer:
  """An `InferenceServer` with one sampling stream per worker.

  Args:
    make_agent: seed -> a new (unbuilt) agent of the run's config with that sampling seed.
    server_seed: the server agent's own seed (its Samplers are replaced; only its build uses it).
    worker_seeds: worker k's sampling seed as per-actor inference would give actor k's agent.
    envs_per_worker, unroll_length, emit, ship_imagination, jit_compile, device: as InferenceServer's.
    **batching: max_batch_workers, max_wait_secs, clock (InferenceServer's).
  """
  states = streams.stream_states([make_agent(seed) for seed in worker_seeds], warm_up)
  with tf.device(device):
    agent = make_agent(server_seed)
    agent_core.build_variables(agent)
  return server_lib.InferenceServer(agent, states, envs_per_worker, unroll_length, emit,
                                    ship_imagination=ship_imagination, jit_compile=jit_compile,
                                    device=device, **batching)


def server_from_builder(builder: backends.ActorBuilder, num_workers: int,
                        emit: Callable[[actor_lib.ActorOutput], bool], device: Optional[str] = None,
                        **batching) -> server_lib.InferenceServer:
  """The run's server: the builder's agent config, seeds and settings; K = `num_workers` streams."""
  def make_agent(seed):
    return factory.build_agent(dataclasses.replace(builder.agent, seed=seed), discount=builder.discount)
  return build_server(make_agent, builder.seed, [builder.seeds(k)[1] for k in range(num_workers)],
                      builder.envs_per_actor, builder.unroll_length, emit,
                      ship_imagination=builder.ship_imagination, jit_compile=builder.jit_compile,
                      device=device, **batching)


@dataclasses.dataclass(frozen=True)
class WorkerEnvs:
  """A picklable recipe for worker k's environments: the builder's game, N copies, actor k's seed.

  Attributes:
    builder: the run's ActorBuilder.
  """
  builder: backends.ActorBuilder

  def __call__(self, worker_id: int) -> batched.BatchedEnvironment:
    builder = self.builder
    return environments.build_env(builder.agent.geometry, builder.env, builder.envs_per_actor,
                                  seed=builder.seeds(worker_id)[0])


def make_backend(config, builder: backends.ActorBuilder, queue_size: int) -> backends.Backend:
  """The transport of a `TrainConfig` with inference='central': lockstep in the learner's thread
  (deterministic), Ray environment workers (backend='ray') or threads; the server on the learner's
  device either way."""
  device = device_lib.resolve_device(config.learner.device)
  def make_server(emit):
    return server_from_builder(builder, config.num_actors, emit, device,
                               max_batch_workers=config.inference_batch_workers,
                               max_wait_secs=config.inference_max_wait_secs)
  make_env = WorkerEnvs(builder)
  if config.deterministic:
    from i2a.training.backends import central_sync  # pylint: disable=g-import-not-at-top
    return central_sync.CentralSyncBackend(make_server, make_env, config.num_actors)
  if config.backend == "ray":
    from i2a.training.backends import central_ray  # pylint: disable=g-import-not-at-top  # Optional extra.
    return central_ray.CentralRayBackend(make_server, make_env, config.num_actors, queue_size,
                                         address=config.ray_address,
                                         connect_timeout=config.ray_connect_timeout_secs)
  from i2a.training.backends import central_local  # pylint: disable=g-import-not-at-top
  return central_local.CentralLocalBackend(make_server, make_env, config.num_actors, queue_size)
