"""Central inference over Ray on a local 2-CPU cluster: environment workers as Ray actors feed the
server in this process; a killed worker is replaced and no unroll mixes two workers; a tiny run trains."""
import dataclasses
import time

import pytest

ray = pytest.importorskip("ray")

from i2a.training import loop  # pylint: disable=g-import-not-at-top,wrong-import-position
from i2a.training.backends import central_ray  # pylint: disable=g-import-not-at-top,wrong-import-position
from i2a.training.central import build  # pylint: disable=g-import-not-at-top,wrong-import-position
from testing import fakes  # pylint: disable=g-import-not-at-top,wrong-import-position
from testing import test_central_inference_faults as faults  # pylint: disable=g-import-not-at-top,wrong-import-position
from testing import test_train_local  # pylint: disable=g-import-not-at-top,wrong-import-position
from testing.test_train_ray import cluster  # pylint: disable=g-import-not-at-top,wrong-import-position,unused-import  (the fixture)

N, T = faults.N, faults.T


@dataclasses.dataclass(frozen=True)
class FakeEnvs:
  """Picklable: worker k's FakeBatchedEnv (its copies numbered from k * N)."""
  num_envs: int

  def __call__(self, worker_id):
    return fakes.FakeBatchedEnv(self.num_envs, offset=worker_id * self.num_envs)


@pytest.mark.usefixtures("cluster")
def test_a_killed_ray_worker_is_replaced_and_no_unroll_mixes_two_workers():
  backend = central_ray.CentralRayBackend(
      lambda emit: build.build_server(faults.make_agent, 99, [1, 2], N, T, emit), FakeEnvs(N), 2,
      queue_size=2, cpus_per_worker=0.5)
  try:
    backend.publish(faults.weights(), 0)
    backend.start()
    outputs = [backend.unroll_queue.get(timeout=240) for _ in range(2)]
    ray.kill(backend.workers[1])  # Like a crashed worker process.
    deadline = time.monotonic() + 240
    while backend.actor_restarts < 1 or sum(o.actor_id == 1 for o in outputs) < 4:
      assert time.monotonic() < deadline, f"restarts={backend.actor_restarts}"
      outputs.append(backend.unroll_queue.get(timeout=240))
  finally:
    backend.stop()
  assert backend.actor_restarts == 1
  for output in outputs:
    faults.assert_one_worker_per_unroll(output.trajectory)
  fresh = [o for o in outputs[2:] if o.actor_id == 1 and (o.trajectory.observation[0, :, 0, 0, 1:] == 0).all()
           and (o.trajectory.step_type[0] == fakes.FIRST).all()]
  assert fresh  # The replacement's first unroll starts from its reset (episode 0, step 0).


@pytest.mark.usefixtures("cluster")
def test_tiny_central_ray_run_trains(tmp_path):
  frames = 4 * test_train_local.T * test_train_local.B
  config = test_train_local.tiny_config(tmp_path, total_frames=frames, backend="ray", inference="central")
  result = loop.train(config)
  assert result["learner_step"] == 4 and result["actor_restarts"] == 0
  assert result["inference_batch_size"] >= 2
