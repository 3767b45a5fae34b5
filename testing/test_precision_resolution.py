"""The compute precision is decided once per run (stored, and the same in every actor), a resume that
would change it is refused, and float16's loss scale adapts instead of ending the run at an overflow."""
import dataclasses
import json
import os

import numpy as np
import pytest
import tensorflow as tf

import i2a
from i2a import hardware
from i2a.training import backends
from i2a.training import learner as learner_lib
from i2a.training import loop
from i2a.training import stored_config
from testing import fakes
from testing import test_train_local


def copy_agent_run(logdir, precision=None, **kwargs):
  """A tiny run of an agent that imagines (copy model: no pretrained model needed)."""
  agent = i2a.AgentConfig(game="sokoban", variant="copy", room_size=5, pixels_per_cell=1, rollout_depth=2,
                          torso=i2a.TorsoConfig((4,), (3,), (2,)), hidden_size=8, lstm_size=8,
                          rollout_hidden_size=8, precision=precision)
  kwargs.setdefault("total_frames", test_train_local.T * test_train_local.B)
  return test_train_local.tiny_config(logdir, agent=agent, **kwargs)


def test_the_stored_config_and_every_actor_name_the_same_precision(tmp_path, monkeypatch):
  expected = hardware.default_precision(imagines=True)
  built = []
  original_call, original_backend = backends.ActorBuilder.__call__, loop.make_backend

  def record(builder, actor_id, source):
    actor = original_call(builder, actor_id, source)
    built.append((builder.agent.precision, actor._policy.agent.compute_dtype))  # pylint: disable=protected-access
    return actor

  def backend_on_other_hardware(config, builder):
    # The learner is built and the config stored; actors elsewhere (Ray workers) may see other
    # hardware, with another default precision: it must not matter.
    monkeypatch.setattr(hardware, "default_precision", lambda imagines: "float16")
    return original_backend(config, builder)

  monkeypatch.setattr(backends.ActorBuilder, "__call__", record)
  monkeypatch.setattr(loop, "make_backend", backend_on_other_hardware)
  loop.train(copy_agent_run(tmp_path))
  stored = stored_config.load(str(tmp_path)).agent.precision
  assert stored == expected
  assert len(built) == 2 and all(p == stored and dtype == tf.as_dtype(stored) for p, dtype in built)


def test_a_resume_that_would_change_the_precision_is_refused(tmp_path, monkeypatch):
  loop.train(copy_agent_run(tmp_path))
  stored = stored_config.load(str(tmp_path)).agent.precision
  other = "float32" if stored == "bfloat16" else "bfloat16"
  monkeypatch.setattr(hardware, "default_precision", lambda imagines: other)  # Other hardware.
  longer = dict(total_frames=2 * test_train_local.T * test_train_local.B)
  with pytest.raises(stored_config.ConfigChangeError, match=f"agent.precision: '{stored}' -> '{other}'"):
    loop.train(dataclasses.replace(copy_agent_run(tmp_path), **longer))
  # Naming the stored precision resumes, whatever this machine's default.
  assert loop.train(dataclasses.replace(copy_agent_run(tmp_path, precision=stored), **longer))[
      "learner_step"] == 2


def test_a_run_stored_before_precisions_were_recorded_still_resumes(tmp_path):
  loop.train(copy_agent_run(tmp_path))
  path = stored_config.path(str(tmp_path))
  with open(path) as f:
    values = json.load(f)
  values["agent"]["precision"] = None  # What older versions stored.
  with open(path, "w") as f:
    json.dump(values, f)
  longer = copy_agent_run(tmp_path, total_frames=2 * test_train_local.T * test_train_local.B)
  assert loop.train(longer)["learner_step"] == 2
  assert stored_config.load(str(tmp_path)).agent.precision == hardware.default_precision(imagines=True)


def _trajectory(agent, seed=0):
  rng = np.random.default_rng(seed)
  t, b = 3, 2
  step_type = np.ones((t + 1, b), np.int32)
  step_type[0] = 0
  return i2a.Trajectory(
      step_type=step_type,
      observation=rng.integers(0, 256, (t + 1, b, agent.height, agent.width, 3), dtype=np.uint8),
      reward=rng.normal(size=(t + 1, b)).astype(np.float32), discount=np.ones((t + 1, b), np.float32),
      action=rng.integers(0, agent.num_actions, (t + 1, b)).astype(np.int32),
      behaviour_logits=rng.normal(size=(t + 1, b, agent.num_actions)).astype(np.float32),
      initial_state=np.zeros((b, agent.height, agent.width, 3 * agent.stack_size), np.float32))


def test_float16_overflow_skips_the_step_and_halves_the_loss_scale_until_steps_apply():
  tf.random.set_seed(0)
  agent = fakes.small_agent("standard", precision="float16")
  learner = learner_lib.Learner(agent, learner_lib.LearnerConfig(float16_loss_scale=2.0**40,
                                                                 float16_loss_scale_period=3))
  trajectory = _trajectory(agent)
  before = [v.numpy().copy() for v in agent.trainable_variables]
  logs = learner.step(trajectory)  # 2^40 overflows float16 (largest finite: 65504): skipped, not fatal.
  assert logs["overflow"] == 1.0 and logs["learner_step"] == 0
  assert float(learner.loss_scale.numpy()) == 2.0**39
  for variable, old in zip(agent.trainable_variables, before):
    np.testing.assert_array_equal(variable.numpy(), old)
  for _ in range(60):
    logs = learner.step(trajectory)
    if logs["learner_step"]:
      break
  assert logs["learner_step"] == 1 and logs["overflow"] == 0.0 and np.isfinite(logs["grad_norm"])
  assert 1.0 <= float(learner.loss_scale.numpy()) < 2.0**20
  learner.loss_scale.assign(8.0)  # Far from overflowing: three finite steps in a row follow.
  scales = []
  for _ in range(3):  # float16_loss_scale_period finite steps in a row double it.
    logs = learner.step(trajectory)
    scales.append(float(learner.loss_scale.numpy()))
  assert logs["overflow"] == 0.0 and scales == [8.0, 16.0, 16.0]
  assert "loss_scale" in learner.trackables()


def test_float32_learners_keep_their_checkpoint_layout_and_logs():
  agent = fakes.small_agent("standard", precision="float32")
  learner = learner_lib.Learner(agent)
  assert set(learner.trackables()) == {"agent", "optimizer", "learner_step", "num_frames"}
  assert "loss_scale" not in learner.step(_trajectory(agent))
