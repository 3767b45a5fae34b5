"""The learner: unroll with frame-stack resets, losses vs NumPy, which variables move, XLA, NaN guard."""
import dataclasses

import numpy as np
import pytest
import sonnet as snt
import tensorflow as tf

import i2a
from i2a.training import device
from i2a.training import learner as learner_lib
from i2a.training import trajectories
from i2a import optimizers
from testing import fakes
from testing import numpy_vtrace

F, M, L = numpy_vtrace.FIRST, numpy_vtrace.MID, numpy_vtrace.LAST
# Agents are fakes.small_agent (15x19 frames, 5 actions, stack 2). Its rollouts (depth 3) sample actions
# from the rollout policy, so two calls on the same frames differ unless the samplers' states match; tests
# that recompute outputs use rollout_depth=1, which is deterministic.
# An episode ends (LAST) and the next starts (FIRST) inside the unroll in column 0; column 1 ends at T.
BOUNDARY_STEPS = [[F, M], [M, M], [L, M], [F, M], [M, L], [M, F]]


def trajectory(step_types=BOUNDARY_STEPS, seed=0, stack_size=2):
  rng = np.random.default_rng(seed)
  step_type = np.asarray(step_types, np.int32)
  shape = step_type.shape
  return i2a.Trajectory(
      step_type=step_type, observation=rng.integers(0, 256, shape + (15, 19, 3), dtype=np.uint8),
      reward=rng.normal(size=shape).astype(np.float32) * 2,
      discount=np.where(step_type == L, 0.0, 1.0).astype(np.float32),
      action=rng.integers(0, 5, size=shape).astype(np.int32),
      behaviour_logits=rng.normal(size=shape + (5,)).astype(np.float32),
      initial_state=rng.uniform(size=(shape[1], 15, 19, 3 * stack_size)).astype(np.float32))


def values(variables):
  return [v.numpy().copy() for v in variables]


def test_unroll_matches_stepping_the_agent_by_hand_with_resets():
  agent = fakes.small_agent("i2a", rollout_depth=1)
  learner = learner_lib.Learner(agent, learner_lib.LearnerConfig())
  traj = trajectory(stack_size=2)
  out = learner.unroll(traj.observation, traj.step_type, traj.initial_state)

  def by_hand(reset):
    state, logits, baselines = tf.constant(traj.initial_state), [], []
    for t in range(len(traj.step_type)):
      if reset:
        is_first = tf.constant(traj.step_type[t] == F)[:, None, None, None]
        state = tf.where(is_first, agent.initial_state(2), state)
      output, state = agent(tf.constant(traj.observation[t], tf.float32) / 255.0, state)
      logits.append(output.policy_logits.numpy())
      baselines.append(output.baseline.numpy())
    return np.stack(logits), np.stack(baselines)

  logits, baselines = by_hand(reset=True)
  assert out.policy_logits.shape == (6, 2, 5) and out.baseline.shape == (6, 2)
  assert out.policy_logits.dtype == tf.float32 and out.action.dtype == tf.int32
  np.testing.assert_allclose(out.policy_logits.numpy(), logits, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(out.baseline.numpy(), baselines, rtol=1e-5, atol=1e-6)
  # Control: without the resets the step after each FIRST differs, so the comparison above can fail.
  no_reset_logits, _ = by_hand(reset=False)
  assert not np.allclose(no_reset_logits[0, 0], logits[0, 0])
  assert not np.allclose(no_reset_logits[3, 0], logits[3, 0])
  np.testing.assert_allclose(no_reset_logits[1, 1], logits[1, 1], rtol=1e-5)  # Column 1: no FIRST yet.


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_step_losses_match_numpy_reference(precision, clipping="abs_one"):
  agent = fakes.small_agent("i2a", rollout_depth=1, precision=precision)
  config = learner_lib.LearnerConfig(discount=0.9, baseline_cost=0.3, entropy_cost=0.05,
                                     distillation_cost=0.7, reward_clipping=clipping, device="/CPU:0")
  learner = learner_lib.Learner(agent, config)
  traj = trajectory()
  out = learner.unroll(traj.observation, traj.step_type, traj.initial_state)
  frames = tf.cast(tf.constant(traj.observation[:-1].reshape((-1, 15, 19, 3)), tf.float32) / 255.0, precision)
  rollout_logits = agent.rollout_policy(frames)[1].numpy().reshape((5, 2, 5))
  logs = learner.step(traj)

  reward = traj.reward if clipping == "none" else np.clip(traj.reward, -1, 1)
  ref = numpy_vtrace.episode_losses(traj.step_type, reward, traj.discount, traj.action,
                                    traj.behaviour_logits, out.policy_logits.numpy(), out.baseline.numpy(),
                                    gamma=0.9)
  mask = np.array([[1, 1], [1, 1], [0, 1], [1, 1], [1, 0]], np.float32)
  distil = numpy_vtrace.distillation(rollout_logits, out.policy_logits.numpy()[:-1], mask)
  expected = dict(pg_loss=ref["policy_gradient"], baseline_loss=0.3 * ref["baseline"],
                  entropy_loss=0.05 * ref["entropy"], distillation_loss=0.7 * distil,
                  entropy=ref["entropy_sum"] / 8, distillation_cross_entropy=distil / 8, valid_fraction=0.8)
  expected["loss"] = sum(expected[k] for k in ("pg_loss", "baseline_loss", "entropy_loss",
                                               "distillation_loss"))
  for name, value in expected.items():
    np.testing.assert_allclose(logs[name], value, rtol=1e-4, atol=1e-5, err_msg=name)
  assert logs["learner_step"] == 1 and logs["num_frames"] == 5 * 2 and logs["grad_norm"] > 0
  assert learner.device == "/CPU:0"


@pytest.mark.parametrize("distillation_cost", [pytest.param(0.0, id="no_distillation"),
                                               pytest.param(1.0, id="distillation")])
@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_step_changes_exactly_the_variables_it_should(distillation_cost, precision):
  agent = fakes.small_agent("i2a", precision=precision)
  learner = learner_lib.Learner(agent, learner_lib.LearnerConfig(distillation_cost=distillation_cost))
  policy_refs = {v.ref() for v in agent.rollout_policy.trainable_variables}
  frozen_before = values(agent.frozen_variables)
  trainable_before = values(agent.trainable_variables)
  assert agent.frozen_variables and policy_refs
  learner.step(trajectory())
  for variable, old in zip(agent.frozen_variables, frozen_before):
    np.testing.assert_array_equal(variable.numpy(), old, err_msg=variable.name)  # Bit-identical.
  for variable, old in zip(agent.trainable_variables, trainable_before):
    moved = not np.array_equal(variable.numpy(), old)
    should_move = variable.ref() not in policy_refs or distillation_cost > 0
    assert moved == should_move, f"{variable.name}: moved={moved}, expected {should_move}"


def test_jit_step_matches_non_jit_step():
  agents = [fakes.small_agent("i2a", seed=3), fakes.small_agent("i2a", seed=4)]
  learners = [learner_lib.Learner(a, learner_lib.LearnerConfig(jit_compile=jit, max_grad_norm=5.0))
              for a, jit in zip(agents, (False, True))]
  for target, source in zip(tf.Module.variables.fget(agents[1]), tf.Module.variables.fget(agents[0])):
    target.assign(source)  # Same weights and same sampler streams.
  logs = [learner.step(trajectory(seed=5)) for learner in learners]
  for name in ("loss", "pg_loss", "baseline_loss", "distillation_loss", "grad_norm"):
    np.testing.assert_allclose(logs[1][name], logs[0][name], rtol=1e-4, err_msg=name)
  for jit_var, var in zip(agents[1].trainable_variables, agents[0].trainable_variables):
    np.testing.assert_allclose(jit_var.numpy(), var.numpy(), rtol=1e-4, atol=1e-6, err_msg=var.name)


@pytest.mark.parametrize("field,index,loss_name", [
    pytest.param("reward", (2, 1), "baseline_loss", id="nan_reward"),
    pytest.param("behaviour_logits", (1, 0, 0), "pg_loss", id="nan_behaviour_logits"),
])
def test_nan_loss_raises_and_leaves_everything_unchanged(field, index, loss_name):
  agent = fakes.small_agent("standard")
  learner = learner_lib.Learner(agent, learner_lib.LearnerConfig())
  traj = trajectory()
  learner.step(traj)  # A first, finite step so the optimiser slots are not all zero.
  state = [learner.learner_step, learner.num_frames] + list(learner.optimizer.ms) + list(
      learner.optimizer.mom) + list(agent.trainable_variables)
  before = values(state)
  bad = getattr(traj, field).copy()
  bad[index] = np.nan
  with pytest.raises(FloatingPointError, match=f"non-finite .*{loss_name}.*NOT applied"):
    learner.step(traj._replace(**{field: bad}))
  for variable, old in zip(state, before):
    np.testing.assert_array_equal(variable.numpy(), old, err_msg=variable.name)


def test_counters_and_weights_round_trip():
  agent = fakes.small_agent("standard")
  learner = learner_lib.Learner(agent, learner_lib.LearnerConfig())
  weights = learner.get_weights()
  assert len(weights) == len(agent.trainable_variables) + len(agent.frozen_variables)
  assert all(isinstance(w, np.ndarray) for w in weights)
  for _ in range(2):
    logs = learner.step(trajectory(step_types=[[M, M, M]] * 4))
  assert logs["learner_step"] == 2 and int(learner.num_frames.numpy()) == 2 * 3 * 3
  other = learner_lib.Learner(fakes.small_agent("standard", seed=9), learner_lib.LearnerConfig())
  other.set_weights(learner.get_weights())
  for a, b in zip(other.get_weights(), learner.get_weights()):
    np.testing.assert_array_equal(a, b)
  with pytest.raises(ValueError, match="set_weights: got"):
    other.set_weights(weights[:-1])


@pytest.mark.parametrize("field,value,match", [
    pytest.param("observation", np.zeros([6, 2, 15, 19, 3], np.float32), "uint8", id="float_frames"),
    pytest.param("observation", np.zeros([6, 2, 15, 18, 3], np.uint8), "observation must be", id="size"),
    pytest.param("behaviour_logits", np.zeros([6, 2, 4], np.float32), "behaviour_logits", id="actions"),
    pytest.param("reward", np.zeros([5, 2], np.float32), "reward has shape", id="length"),
    pytest.param("initial_state", np.zeros([2, 15, 19, 3], np.float32), "initial_state", id="stack"),
])
def test_malformed_trajectory_is_rejected(field, value, match):
  agent = fakes.small_agent("standard")
  with pytest.raises(ValueError, match=match):
    trajectories.checked_trajectory(trajectory()._replace(**{field: value}), agent)


@pytest.mark.parametrize("field,value", [
    ("learning_rate", 0.0), ("rmsprop_epsilon", -1.0), ("discount", 1.5), ("rmsprop_decay", -0.1),
    ("entropy_cost", -0.01), ("clip_rho_threshold", 0.0), ("max_grad_norm", -1.0),
    ("reward_clipping", "clip"), ("optimizer", "adam"),
])
def test_config_validation(field, value):
  with pytest.raises(ValueError, match=f"LearnerConfig.{field}"):
    learner_lib.LearnerConfig(**{field: value})


@pytest.mark.parametrize("kind, optimizer_type, ms_start", [
    pytest.param("rmsprop_tf1", optimizers.RMSPropTF1, 1.0, id="tf1"),
    pytest.param("rmsprop_snt", snt.optimizers.RMSProp, 0.0, id="sonnet")])
def test_optimizer_choice_and_its_mean_square_start(kind, optimizer_type, ms_start):
  """TF1's RMSProp (the default: the talk's and IMPALA's) starts the mean square at 1, Sonnet's at 0; one
  step then gives ms = decay * start + (1 - decay) * g^2 for every moved variable."""
  assert learner_lib.LearnerConfig().optimizer == "rmsprop_tf1"
  config = learner_lib.LearnerConfig(optimizer=kind, rmsprop_decay=0.99)
  learner = learner_lib.Learner(fakes.small_agent("standard"), config)
  assert isinstance(learner.optimizer, optimizer_type)
  assert len(learner.optimizer.ms) == len(learner.agent.trainable_variables)
  for ms in learner.optimizer.ms:
    np.testing.assert_array_equal(ms.numpy(), ms_start)
  learner.step(trajectory())
  for ms in learner.optimizer.ms:
    assert np.all(ms.numpy() >= 0.99 * ms_start) and np.any(ms.numpy() != ms_start)


def test_mixed_precision_is_refused_clearly():
  config = dataclasses.replace(learner_lib.LearnerConfig(), mixed_precision=True)
  with pytest.raises(NotImplementedError, match="snt.mixed_precision"):
    learner_lib.Learner(fakes.small_agent("standard"), config)


def test_device_resolution():
  expected = "/GPU:0" if tf.config.list_physical_devices("GPU") else "/CPU:0"
  assert device.resolve_device(None) == expected
  assert device.resolve_device("/device:cpu:0") == "/CPU:0"
  with pytest.raises(ValueError, match="not available"):
    device.resolve_device("/GPU:17")
  with pytest.raises(ValueError, match="must look like"):
    device.resolve_device("tpu")
