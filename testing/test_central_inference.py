"""Central inference (i2a/training/central/) against per-actor inference: the same actions and the same
trajectories for the same weights and seeds, frame stacks reset at FIRST steps, one stream per actor."""
import numpy as np
import pytest
import tensorflow as tf

from i2a import agent_core
from i2a import imagined as imagined_lib
from i2a.env_models import MiniPacmanEnvModel
from i2a.training import actor as actor_lib
from i2a.training import learner as learner_lib
from i2a.training.backends import central_sync
from i2a.training.central import build
from i2a.training.central import server as server_lib
from testing import fakes

K, N, T = 2, 3, 4
SEEDS = [11, 12]  # Actor k's sampling seed (ActorBuilder.seeds gives seed + k + 1).
SPEC = fakes.small_spec()


def standard_agent(seed):
  return fakes.small_agent("standard", seed=seed, **fakes.FAKE_ENV)


def palette_i2a(seed):
  """The small I2A with a tiny MiniPacman model that has the palette head, so its imagination ships."""
  model = MiniPacmanEnvModel(palette=SPEC.palette, event_weights=SPEC.event_weights, stem_channels=8,
                             blocks=((4, 4, 8),), large_kernel=3, event_channels=8)
  return fakes.small_agent("i2a", seed=seed, precision="float32", built_env_model=model)


AGENTS = {"standard": (standard_agent, {}), "i2a": (palette_i2a, dict(height=15, width=19, num_actions=5))}


class FixedSource(actor_lib.VariableSource):
  """The weights of one agent, as learner step 0."""

  def __init__(self, weights):
    self.weights = weights

  def latest_step(self):
    return 0

  def get_variables(self):
    return self.weights, 0


def reference_weights(make_agent):
  agent = make_agent(0)
  agent_core.build_variables(agent)
  return [v.numpy() for v in agent.policy_variables]


def per_actor(make_agent, env_kw, weights, num_unrolls, ship):
  actors = [actor_lib.Actor(make_agent(SEEDS[k]), fakes.FakeBatchedEnv(N, offset=k * N, **env_kw), T,
                            FixedSource(weights), actor_id=k, ship_imagination=ship) for k in range(K)]
  return {k: [actors[k].unroll() for _ in range(num_unrolls)] for k in range(K)}


def central(make_agent, env_kw, weights, num_unrolls, ship):
  backend = central_sync.CentralSyncBackend(
      lambda emit: build.build_server(make_agent, 99, SEEDS, N, T, emit, ship_imagination=ship),
      lambda k: fakes.FakeBatchedEnv(N, offset=k * N, **env_kw), K)
  backend.publish(weights, 0)
  backend.start()
  outputs = [backend.unroll_queue.get() for _ in range(K * num_unrolls)]
  backend.stop()
  return {k: [o for o in outputs if o.actor_id == k] for k in range(K)}, backend


@pytest.mark.parametrize("variant", ["standard", "i2a"])
def test_same_actions_and_trajectories_as_per_actor_inference(variant):
  make_agent, env_kw = AGENTS[variant]
  weights = reference_weights(make_agent)
  ship = variant == "i2a"
  expected = per_actor(make_agent, env_kw, weights, 3, ship)
  got, backend = central(make_agent, env_kw, weights, 3, ship)
  for k in range(K):
    assert len(got[k]) == 3
    for want, have in zip(expected[k], got[k]):
      assert have.actor_id == want.actor_id and have.weights_step == want.weights_step == 0
      for name in ("step_type", "observation", "reward", "discount", "action", "initial_state"):
        np.testing.assert_array_equal(getattr(have.trajectory, name), getattr(want.trajectory, name), err_msg=name)
      np.testing.assert_allclose(have.trajectory.behaviour_logits, want.trajectory.behaviour_logits,
                                 rtol=1e-5, atol=1e-6)
      for name, a, b in zip(actor_lib.EpisodeStats._fields, have.episodes, want.episodes):
        np.testing.assert_array_equal(a, b, err_msg=name)
      if ship:
        for name, a, b in zip(imagined_lib.CompactImagination._fields, have.trajectory.imagination,
                              want.trajectory.imagination):
          assert (a is None) == (b is None), name
          if a is not None:
            np.testing.assert_array_equal(a, b, err_msg=name)
      else:
        assert have.trajectory.imagination is None
  stats = backend.scalars()
  assert stats["inference_batch_workers"] == K and stats["inference_batch_size"] == K * N


def test_frame_stacks_reset_at_episode_starts_as_the_learner_rebuilds_them():
  """The learner rebuilds each step's frame stack from the unroll (reset at FIRST); its logits with the
  same weights must be the server's behaviour logits, at every step, episode starts included."""
  weights = reference_weights(standard_agent)
  got, _ = central(standard_agent, {}, weights, 4, False)
  learner_agent = standard_agent(0)
  learner = learner_lib.Learner(learner_agent)
  learner.set_weights(weights)
  firsts = 0
  for k in range(K):
    for output in got[k]:
      traj = output.trajectory
      firsts += int((traj.step_type[1:] == fakes.FIRST).sum())
      logits = learner.unroll(traj.observation, traj.step_type, traj.initial_state).policy_logits
      np.testing.assert_allclose(logits.numpy(), traj.behaviour_logits, rtol=1e-5, atol=1e-6)
  assert firsts > 0  # Episodes of 2-5 steps: several start inside the unrolls.


def test_each_actor_draws_from_its_own_stream_whatever_the_batch():
  """A worker's actions do not depend on which other workers share its batches."""
  weights = reference_weights(standard_agent)
  alone = {}
  for k in range(K):
    outputs = []
    server = build.build_server(standard_agent, 99, SEEDS, N, T, lambda o: outputs.append(o) or True)
    server.publish(weights, 0)
    env = fakes.FakeBatchedEnv(N, offset=k * N)
    timestep = env.reset()
    while len(outputs) < 2:
      timestep = env.step(server.serve([server_lib.Request(k, 0, timestep, 0.0)])[0])
    alone[k] = outputs
  together, _ = central(standard_agent, {}, weights, 2, False)
  for k in range(K):
    for a, b in zip(alone[k], together[k]):
      np.testing.assert_array_equal(a.trajectory.action, b.trajectory.action)
