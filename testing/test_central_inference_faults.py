"""Central inference's batching and faults: the deadline honoured on a fake clock, a killed environment
worker replaced with no unroll mixing two workers, a server failure stopping the run with a clear
message, and a deterministic central run reproducing itself (i2a/training/central/)."""
import numpy as np
import pytest

from i2a import agent_core
from i2a.training import actor as actor_lib
from i2a.training.backends import central_local
from i2a.training.central import build
from i2a.training.central import server as server_lib
from testing import fakes

N, T = 2, 3


def make_agent(seed):
  return fakes.small_agent("standard", seed=seed, **fakes.FAKE_ENV)


def weights():
  agent = make_agent(0)
  agent_core.build_variables(agent)
  return [v.numpy() for v in agent.policy_variables]


class ScriptedArrivals:
  """Requests that arrive at fixed times on a fake clock; `poll(timeout)` advances the clock to the next
  arrival if it comes within `timeout`, else by `timeout` (nothing real waits)."""

  def __init__(self, arrivals):
    self.now = 0.0
    self.arrivals = sorted(arrivals)  # (time, worker id)
    env = fakes.FakeBatchedEnv(N)
    self.timestep = env.reset()

  def clock(self):
    return self.now

  def poll(self, timeout):
    if self.arrivals and self.arrivals[0][0] <= self.now + (timeout or 0.0):
      when, worker = self.arrivals.pop(0)
      self.now = max(self.now, when)
      return server_lib.Request(worker, 0, self.timestep, when)
    self.now += timeout or 0.0
    return None


def server_with(clock, num_workers=4, **batching):
  return build.build_server(make_agent, 99, list(range(num_workers)), N, T, lambda o: True, clock=clock,
                            **batching)


def test_a_batch_closes_at_the_deadline_and_a_slow_worker_does_not_stall_the_others():
  arrivals = ScriptedArrivals([(0.000, 2), (0.004, 0), (0.008, 3), (0.050, 1)])
  server = server_with(arrivals.clock, max_wait_secs=0.010)
  server.publish(weights(), 0)
  first = server.gather(arrivals.poll)
  assert [r.worker_id for r in first] == [2, 0, 3]  # Worker 1 arrives after the deadline.
  assert arrivals.now == pytest.approx(0.010)  # Waited exactly until the deadline, not for worker 1.
  actions = server.serve(first)
  assert [a.shape for a in actions] == [(N,)] * 3
  second = server.gather(arrivals.poll)
  assert [r.worker_id for r in second] == [1]
  stats = server.scalars()
  assert stats["inference_batch_workers"] == 3 and stats["inference_batch_size"] == 3 * N
  assert server.scalars() == stats  # No batch since: the last figures, so a progress window always has them.


def test_a_full_batch_closes_without_waiting_for_the_deadline():
  arrivals = ScriptedArrivals([(0.0, 0), (0.0, 1), (0.0, 2), (0.0, 3)])
  server = server_with(arrivals.clock, max_batch_workers=2, max_wait_secs=1.0)
  assert [r.worker_id for r in server.gather(arrivals.poll)] == [0, 1]
  assert arrivals.now == 0.0
  assert [r.worker_id for r in server.gather(arrivals.poll)] == [2, 3]


class FlakyEnv(fakes.FakeBatchedEnv):
  """A fake whose step `fail_at` raises, as a crashing environment would."""

  def __init__(self, num_envs, offset, fail_at=None):
    super().__init__(num_envs, offset=offset)
    self.fail_at = fail_at

  def step(self, actions):
    if self.fail_at is not None and self.num_steps + 1 == self.fail_at:
      raise RuntimeError("environment crashed")
    return super().step(actions)


def assert_one_worker_per_unroll(trajectory):
  """A FIRST step inside an unroll must follow a LAST step, and each copy's pixel (0, 0) keeps its id:
  an unroll mixing an old worker's steps with its replacement's would break both."""
  step_type, frames = trajectory.step_type, trajectory.observation
  for t in range(1, len(step_type)):
    restarted = step_type[t] == fakes.FIRST
    np.testing.assert_array_equal(step_type[t - 1][restarted], fakes.LAST)
    continued = ~restarted
    np.testing.assert_array_equal(frames[t, continued, 0, 0, 2], frames[t - 1, continued, 0, 0, 2] + 1)
  np.testing.assert_array_equal(frames[:, :, 0, 0, 0], np.broadcast_to(frames[0, :, 0, 0, 0], step_type.shape))


def test_a_killed_worker_is_replaced_and_no_unroll_mixes_two_workers():
  created = []

  def make_env(worker_id):
    env = FlakyEnv(N, offset=worker_id * N, fail_at=5 if worker_id == 1 and not created.count(1) else None)
    created.append(worker_id)
    return env

  backend = central_local.CentralLocalBackend(
      lambda emit: build.build_server(make_agent, 99, [1, 2], N, T, emit), make_env, 2, queue_size=2)
  backend.publish(weights(), 0)
  backend.start()
  try:
    outputs = [backend.unroll_queue.get(timeout=120) for _ in range(12)]
  finally:
    backend.stop()
  assert backend.actor_restarts == 1 and created.count(1) == 2
  for output in outputs:
    assert_one_worker_per_unroll(output.trajectory)
  from_1 = [o for o in outputs if o.actor_id == 1]
  # Worker 1 died at its 5th step, inside its second unroll (steps 3-6), which was dropped: the next
  # unroll of worker 1 is the replacement's first, starting from its reset.
  assert len(from_1) >= 2
  np.testing.assert_array_equal(from_1[1].trajectory.step_type[0], fakes.FIRST)
  np.testing.assert_array_equal(from_1[1].trajectory.observation[0, :, 0, 0, 1:], 0)  # Episode 0, t 0.


def test_a_server_failure_stops_the_run_with_a_clear_message():
  def failing_server(emit):
    server = build.build_server(make_agent, 99, [1], N, T, emit)
    def serve(requests):
      raise ValueError("out of device memory")
    server.serve = serve
    return server

  backend = central_local.CentralLocalBackend(failing_server, lambda k: fakes.FakeBatchedEnv(N), 1,
                                              queue_size=1)
  backend.publish(weights(), 0)
  backend.start()
  try:
    with pytest.raises(RuntimeError, match="central inference server failed.*out of device memory"):
      backend.unroll_queue.get(timeout=120)
  finally:
    backend.stop()
