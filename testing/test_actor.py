"""Actor and queue tests against the fake batched environment and an autospecced Learner (haiku IMPALA
style)."""
from unittest import mock

import numpy as np
import pytest

from i2a.training import actor as actor_lib
from i2a.training import learner as learner_lib
from i2a.training import queues
from testing import fakes

T, N = 4, 3


class FixedSource(actor_lib.VariableSource):
  """Serves the weights of `agent` as learner step `step`."""

  def __init__(self, agent, step):
    self.agent, self.step = agent, step

  def latest_step(self):
    return self.step

  def get_variables(self):
    return [v.numpy() for v in self.agent.policy_variables], self.step


def _unrolls(num_unrolls, num_envs=N, unroll_length=T, source=None):
  env = fakes.FakeBatchedEnv(num_envs)
  actor = actor_lib.Actor(fakes.small_agent(seed=1, **fakes.FAKE_ENV), env, unroll_length, source)
  return [actor.unroll() for _ in range(num_unrolls)], env, actor


def _stream(outputs):
  """The unique steps of consecutive unrolls: [K*T + 1, N, ...] per field."""
  fields = {}
  for name in ("step_type", "observation", "reward", "discount", "action", "behaviour_logits"):
    parts = [getattr(outputs[0].trajectory, name)] + [getattr(o.trajectory, name)[1:] for o in outputs[1:]]
    fields[name] = np.concatenate(parts)
  return fields


@pytest.mark.parametrize("num_envs,unroll_length", [(1, 1), (3, 4), (2, 7)],
                         ids=["one_env_t1", "three_envs_t4", "two_envs_t7"])
def test_unroll_shapes_and_dtypes(num_envs, unroll_length):
  outputs, _, _ = _unrolls(3, num_envs, unroll_length)
  for out in outputs:
    traj = out.trajectory
    t1 = unroll_length + 1
    expected = {"step_type": ((t1, num_envs), np.int32), "observation": ((t1, num_envs, 6, 5, 3), np.uint8),
                "reward": ((t1, num_envs), np.float32), "discount": ((t1, num_envs), np.float32),
                "action": ((t1, num_envs), np.int32), "behaviour_logits": ((t1, num_envs, 3), np.float32),
                "initial_state": ((num_envs, 6, 5, 6), np.float32)}
    for name, (shape, dtype) in expected.items():
      value = getattr(traj, name)
      assert value.shape == shape, name
      assert value.dtype == dtype, name


def test_consecutive_unrolls_overlap_by_one_step():
  outputs, _, _ = _unrolls(4)
  for prev, nxt in zip(outputs, outputs[1:]):
    for name in ("step_type", "observation", "reward", "discount", "action", "behaviour_logits"):
      np.testing.assert_array_equal(getattr(prev.trajectory, name)[-1], getattr(nxt.trajectory, name)[0],
                                    err_msg=name)


def test_actions_are_the_ones_sent_to_the_environment():
  outputs, env, actor = _unrolls(3)
  stream = _stream(outputs)
  np.testing.assert_array_equal(np.stack(env.actions_received), stream["action"][:-1])
  assert actor.num_env_steps == 3 * T * N == env.num_steps * N


def test_initial_state_is_the_agent_state_before_step_zero():
  """Reference frame stack (size 2) from the math: shift in frame/255, zeroed at FIRST steps."""
  outputs, _, _ = _unrolls(4)
  stream = _stream(outputs)
  state = np.zeros((N, 6, 5, 6), np.float32)
  states_before = []
  for t in range(len(stream["step_type"])):
    states_before.append(state)
    first = (stream["step_type"][t] == fakes.FIRST)[:, None, None, None]
    prev = np.where(first, 0.0, state)
    state = np.concatenate([prev[..., 3:], stream["observation"][t] / np.float32(255.0)], axis=-1)
  for k, out in enumerate(outputs):
    np.testing.assert_allclose(out.trajectory.initial_state, states_before[k * T], atol=1e-6)


def test_episode_bookkeeping_matches_known_returns():
  outputs, _, _ = _unrolls(6)
  steps = 6 * T
  expected = []  # (step of the LAST, env, return, length, terminal)
  for i in range(N):
    start, k = 0, 0
    while start + fakes.episode_length(i, k) <= steps:
      length = fakes.episode_length(i, k)
      expected.append((start + length, i, fakes.episode_return(i, k), length, fakes.is_terminal(i, k)))
      start, k = start + length + 1, k + 1
  expected.sort()
  got = [e for out in outputs for e in zip(*out.episodes)]
  assert len(got) == len(expected) > 6
  for (ret, length, terminal), (_, _, want_ret, want_len, want_terminal) in zip(got, expected):
    assert ret == pytest.approx(want_ret)
    assert (length, terminal) == (want_len, want_terminal)
  stream = _stream(outputs)  # The environment's own LAST steps agree with the schedule.
  assert np.sum(stream["step_type"] == fakes.LAST) == len(expected)
  assert {bool(t) for t in np.concatenate([o.episodes.terminal for o in outputs])} == {True, False}


def test_new_weights_are_picked_up_between_unrolls():
  teacher = fakes.small_agent(seed=5, **fakes.FAKE_ENV)
  teacher(np.zeros((1, 6, 5, 3), np.float32), teacher.initial_state(1))
  source = FixedSource(teacher, step=-1)
  outputs, _, actor = _unrolls(1, source=source)
  assert outputs[0].weights_step == -1
  source.step = 7
  out = actor.unroll()
  assert out.weights_step == actor.weights_step == 7
  for mine, theirs in zip(actor._agent.policy_variables, teacher.policy_variables):
    np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
  # Steps 1..T were acted with the teacher's weights: recompute their logits with the teacher.
  state = out.trajectory.initial_state
  for t in range(T + 1):
    first = (out.trajectory.step_type[t] == fakes.FIRST)[:, None, None, None]
    frame = out.trajectory.observation[t].astype(np.float32) / 255.0
    agent_out, state = teacher(frame, np.where(first, 0.0, state).astype(np.float32))
    if t >= 1:
      np.testing.assert_allclose(agent_out.policy_logits.numpy(), out.trajectory.behaviour_logits[t],
                                 rtol=1e-5, atol=1e-6)


def test_mismatched_weights_raise_clear_error():
  other = fakes.small_agent(num_actions=3, height=8, width=8)
  other(np.zeros((1, 8, 8, 3), np.float32), other.initial_state(1))
  with pytest.raises(ValueError, match="weights for .* have shape"):
    _unrolls(1, source=FixedSource(other, step=0))


def test_actor_rejects_env_with_other_action_count():
  with pytest.raises(ValueError, match="actions"):
    actor_lib.Actor(fakes.small_agent(height=6, width=5, num_actions=4), fakes.FakeBatchedEnv(2), 3)


def test_two_actors_fill_a_learner_batch_with_exact_shapes():
  """Two actors of 2 copies feed the learner (the real Learner's interface, autospecced) a [T+1, 4] batch
  in actor order."""
  learner = mock.create_autospec(learner_lib.Learner, instance=True)
  unroll_queue = queues.UnrollQueue(maxsize=4)
  actors = [actor_lib.Actor(fakes.small_agent(seed=i, **fakes.FAKE_ENV), fakes.FakeBatchedEnv(2, offset=10 * i),
                            T, actor_id=i) for i in range(2)]
  sent = [actors[0].unroll(), actors[1].unroll()]
  for out in sent:
    assert unroll_queue.put(out)
  batch, parts = queues.Batcher(unroll_queue, batch_size=4).next_batch(timeout=1)
  learner.step(batch)
  (traj,), _ = learner.step.call_args
  assert traj.observation.shape == (T + 1, 4, 6, 5, 3) and traj.observation.dtype == np.uint8
  assert traj.behaviour_logits.shape == (T + 1, 4, 3) and traj.initial_state.shape == (4, 6, 5, 6)
  np.testing.assert_array_equal(traj.observation[:, 2:], sent[1].trajectory.observation)
  np.testing.assert_array_equal(traj.initial_state[:2], sent[0].trajectory.initial_state)
  assert [p.actor_id for p in parts] == [0, 1]


def test_batcher_refuses_batches_that_do_not_divide():
  unroll_queue = queues.UnrollQueue(maxsize=4)
  outputs, _, _ = _unrolls(2, num_envs=3)
  for out in outputs:
    unroll_queue.put(out)
  with pytest.raises(ValueError, match="multiple"):
    queues.Batcher(unroll_queue, batch_size=4).next_batch(timeout=1)


def test_queue_reports_producer_failure_and_timeouts():
  unroll_queue = queues.UnrollQueue(maxsize=1)
  with pytest.raises(TimeoutError):
    unroll_queue.get(timeout=0.05)
  unroll_queue.fail(KeyError("boom"))
  with pytest.raises(RuntimeError, match="boom"):
    unroll_queue.get(timeout=0.05)
  closed = queues.UnrollQueue(maxsize=1)
  closed.close()
  assert not closed.put(None)
  with pytest.raises(queues.QueueClosed):
    closed.get()


def test_depth_one_distilled_rollout_policy_exists_on_both_sides_of_a_weight_publish():
  # With rollout_depth=1 imagination never calls the rollout policy, but distillation trains it.
  from envs import minipacman  # pylint: disable=g-import-not-at-top
  from testing import test_learner  # pylint: disable=g-import-not-at-top
  learner = learner_lib.Learner(fakes.small_agent("i2a", seed=1, rollout_depth=1))
  assert learner.agent.rollout_policy is not None
  assert tf_variables(learner.agent.rollout_policy)  # Built before any step.
  logs = learner.step(test_learner.trajectory())
  assert np.isfinite(logs["distillation_loss"]) and logs["distillation_loss"] > 0
  actor = actor_lib.Actor(fakes.small_agent("i2a", seed=2, rollout_depth=1),
                          minipacman.BatchedMiniPacman(2, seed=0), 2, FixedSource(learner.agent, 1))
  output = actor.unroll()  # Copies every published weight, the rollout policy's included.
  assert output.weights_step == 1
  for mine, theirs in zip(actor._agent.policy_variables, learner.variables()):  # pylint: disable=protected-access
    np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


def tf_variables(module):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  return tf.Module.trainable_variables.fget(module)
