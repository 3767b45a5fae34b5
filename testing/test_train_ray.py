"""The Ray backend on a local 2-CPU cluster: a tiny training run, and a killed actor that is restarted."""
import time

import pytest

ray = pytest.importorskip("ray")

from i2a.training import backends  # pylint: disable=g-import-not-at-top,wrong-import-position
from i2a.training import loop  # pylint: disable=g-import-not-at-top,wrong-import-position
from i2a.training.backends import ray_backend  # pylint: disable=g-import-not-at-top,wrong-import-position
from testing import test_train_local  # pylint: disable=g-import-not-at-top,wrong-import-position

T, B = test_train_local.T, test_train_local.B


@pytest.fixture(scope="module")
def cluster():
  ray_backend.init_ray(None, num_cpus=2)
  yield
  ray.shutdown()


@pytest.mark.usefixtures("cluster")
def test_tiny_ray_run_trains(tmp_path):
  config = test_train_local.tiny_config(tmp_path, total_frames=4 * T * B, backend="ray")
  result = loop.train(config)
  assert (result["learner_step"], result["num_frames"]) == (4, 4 * T * B)
  assert result["policy_lag"] >= 0 and result["actor_restarts"] == 0


@pytest.mark.usefixtures("cluster")
def test_killed_actor_is_restarted_and_learning_goes_on(tmp_path):
  config = test_train_local.tiny_config(tmp_path)
  learner, _ = loop.build_learner(config)
  builder = backends.ActorBuilder(config.agent, config.env, config.envs_per_actor, config.unroll_length,
                                  config.seed)
  backend = ray_backend.RayBackend(builder, num_actors=2, queue_size=2)
  try:
    backend.publish(learner.get_weights(), 0)
    backend.start()
    batcher = loop.queues.Batcher(backend.unroll_queue, config.batch_size)
    victim = backend.actors[0]
    old_pid = ray.get(victim.pid.remote())
    learner.step(batcher.next_batch(timeout=240)[0])
    ray.kill(victim)  # Like a crashed worker process.
    from_victim, deadline = 0, time.monotonic() + 240
    # Up to 3 of actor 0's unrolls may predate the kill (queued, or waiting for room in the queue).
    while not (backend.actor_restarts >= 1 and from_victim >= 4):
      assert time.monotonic() < deadline, f"restarts={backend.actor_restarts}, from actor 0: {from_victim}"
      trajectory, parts = batcher.next_batch(timeout=240)
      logs = learner.step(trajectory)
      backend.publish(learner.get_weights(), int(logs["learner_step"]))
      from_victim += sum(p.actor_id == 0 for p in parts)
    assert backend.actors[0] is not victim
    assert ray.get(backend.actors[0].pid.remote()) != old_pid
    assert int(learner.learner_step.numpy()) >= 3
  finally:
    backend.stop()
