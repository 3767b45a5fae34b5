"""Checkpointer and environment-model checkpoints: exact round trips, crash safety, clear errors."""
import glob
import os

import numpy as np
import pytest
import sonnet as snt
import tensorflow as tf

import i2a
from i2a.training import checkpointing
from i2a.training import learner as learner_lib
from testing import fakes


def _linear(width=4, seed=0):
  linear = snt.Linear(width, w_init=snt.initializers.RandomNormal(seed=seed))
  linear(tf.ones([1, 3]))
  return linear


def _conv_env_model(bins=(-1.0, 0.0, 1.0)):
  model = i2a.SizePreservingConvNetModel(5, bins)
  model(tf.zeros([1, 15, 19, 6]), tf.zeros([1], tf.int32))
  return model


def _values(module):
  return [v.numpy().copy() for v in tf.Module.variables.fget(module)]


def test_learner_round_trip_restores_weights_slots_and_counters_exactly(tmp_path):
  learner = learner_lib.Learner(fakes.small_agent("i2a", seed=1), learner_lib.LearnerConfig())
  rng = np.random.default_rng(0)
  for slot in learner.optimizer.ms + learner.optimizer.mom:  # As after training: every slot non-zero.
    slot.assign(rng.uniform(0.1, 1.0, size=slot.shape).astype(np.float32))
  learner.learner_step.assign(1)
  learner.num_frames.assign(12345)
  path = checkpointing.Checkpointer(str(tmp_path), 3, **learner.trackables()).save(1)
  assert path == os.path.join(str(tmp_path), "ckpt-1")

  fresh = learner_lib.Learner(fakes.small_agent("i2a", seed=2), learner_lib.LearnerConfig())
  assert any(not np.array_equal(a, b) for a, b in zip(fresh.get_weights(), learner.get_weights()))
  assert checkpointing.Checkpointer(str(tmp_path), 3, **fresh.trackables()).restore_latest()
  pairs = list(zip(tf.Module.variables.fget(fresh.agent), tf.Module.variables.fget(learner.agent)))
  pairs += list(zip(fresh.optimizer.ms + fresh.optimizer.mom, learner.optimizer.ms + learner.optimizer.mom))
  pairs += [(fresh.learner_step, learner.learner_step), (fresh.num_frames, learner.num_frames)]
  for restored, original in pairs:
    np.testing.assert_array_equal(restored.numpy(), original.numpy(), err_msg=original.name)
  assert int(fresh.learner_step.numpy()) == 1 and int(fresh.num_frames.numpy()) == 12345


def test_restore_latest_without_checkpoint_returns_false(tmp_path):
  linear = _linear()
  before = _values(linear)
  assert not checkpointing.Checkpointer(str(tmp_path), 2, model=linear).restore_latest()
  for value, old in zip(_values(linear), before):
    np.testing.assert_array_equal(value, old)


def test_max_to_keep_and_same_step_is_not_rewritten(tmp_path):
  linear = _linear()
  checkpointer = checkpointing.Checkpointer(str(tmp_path), 2, model=linear)
  for step in (1, 2, 3):
    linear.b.assign([float(step)] * 4)
    checkpointer.save(step)
  assert sorted(os.path.basename(p) for p in glob.glob(str(tmp_path / "*.index"))) == [
      "ckpt-2.index", "ckpt-3.index"]
  linear.b.assign([9.0] * 4)
  assert checkpointer.save(3) == checkpointer.latest_path  # Not rewritten in place.
  assert checkpointer.restore_latest()
  np.testing.assert_array_equal(linear.b.numpy(), [3.0] * 4)


def test_a_save_that_fails_mid_write_leaves_the_previous_checkpoint_current(tmp_path):
  linear = _linear()
  checkpointer = checkpointing.Checkpointer(str(tmp_path), 2, model=linear)
  checkpointer.save(1)
  saved = _values(linear)
  linear.w.assign(linear.w + 1.0)
  (tmp_path / "ckpt-2_temp").write_text("not a directory")  # Makes SaveV2's shard write fail.
  with pytest.raises(tf.errors.OpError):
    checkpointer.save(2)
  reopened = checkpointing.Checkpointer(str(tmp_path), 2, model=linear)
  assert reopened.latest_path == os.path.join(str(tmp_path), "ckpt-1")
  assert reopened.restore_latest()
  for value, old in zip(_values(linear), saved):
    np.testing.assert_array_equal(value, old)


@pytest.mark.parametrize("damage,match", [
    pytest.param("truncate_half", "unreadable", id="truncated_half"),
    pytest.param("truncate_tail", "unreadable", id="truncated_tail"),
    pytest.param("flip_byte", "unreadable", id="corrupt_byte"),
    pytest.param("delete_data", "unreadable", id="missing_data_file"),
    pytest.param("delete_index", "index does not exist", id="missing_index_file"),
])
def test_corrupt_checkpoint_raises_and_rolls_back(tmp_path, damage, match):
  linear = _linear(64)
  path = checkpointing.Checkpointer(str(tmp_path), 2, model=linear).save(7)
  data = glob.glob(path + ".data*")[0]
  raw = open(data, "rb").read()
  if damage == "truncate_half":
    open(data, "wb").write(raw[:len(raw) // 2])
  elif damage == "truncate_tail":
    open(data, "wb").write(raw[:-64])
  elif damage == "flip_byte":
    open(data, "wb").write(raw[:-40] + bytes([raw[-40] ^ 0xFF]) + raw[-39:])
  elif damage == "delete_data":
    os.remove(data)
  else:
    os.remove(path + ".index")
  linear.w.assign(tf.zeros_like(linear.w))
  before = _values(linear)
  with pytest.raises(checkpointing.CheckpointError, match=f"{path}.*{match}"):
    checkpointing.Checkpointer(str(tmp_path), 2, model=linear).restore_latest()
  for value, old in zip(_values(linear), before):
    np.testing.assert_array_equal(value, old)


@pytest.mark.parametrize("make,match", [
    pytest.param(lambda: dict(model=_linear(5)), "do not fit", id="other_shapes"),
    pytest.param(lambda: dict(model=snt.Sequential([_linear()])), "do not match", id="other_structure"),
    pytest.param(lambda: dict(model=_linear(), extra=tf.Variable(1.0)), "do not match", id="extra_object"),
    pytest.param(lambda: dict(other=_linear()), "do not match", id="renamed_object"),
])
def test_incompatible_checkpoint_raises(tmp_path, make, match):
  checkpointing.Checkpointer(str(tmp_path), 2, model=_linear(), step=tf.Variable(3)).save(1)
  with pytest.raises(checkpointing.CheckpointError, match=f"ckpt-1.*{match}"):
    checkpointing.Checkpointer(str(tmp_path), 2, **make()).restore_latest()


def test_checkpoint_of_another_agent_variant_raises(tmp_path):
  standard = learner_lib.Learner(fakes.small_agent("standard"), learner_lib.LearnerConfig())
  checkpointing.Checkpointer(str(tmp_path), 2, **standard.trackables()).save(1)
  i2a_learner = learner_lib.Learner(fakes.small_agent("i2a"), learner_lib.LearnerConfig())
  before = i2a_learner.get_weights()
  with pytest.raises(checkpointing.CheckpointError, match="another agent variant"):
    checkpointing.Checkpointer(str(tmp_path), 2, **i2a_learner.trackables()).restore_latest()
  for value, old in zip(i2a_learner.get_weights(), before):
    np.testing.assert_array_equal(value, old)


def test_env_model_round_trip_from_prefix_and_from_directory(tmp_path):
  model = _conv_env_model()
  prefix = checkpointing.save_env_model(model, str(tmp_path / "prefix" / "env_model"))
  at_prefix = _values(model)
  optimizer = snt.optimizers.Adam(1e-3)  # A model trainer's checkpoint also holds its optimizer.
  optimizer.apply([tf.ones_like(v) for v in model.trainable_variables], model.trainable_variables)
  directory = str(tmp_path / "trainer")
  checkpointing.Checkpointer(directory, 1, env_model=model, optimizer=optimizer).save(10)
  at_directory = _values(model)
  for path, expected_path, expected in ((prefix, prefix, at_prefix),
                                        (directory, os.path.join(directory, "ckpt-10"), at_directory)):
    target = _conv_env_model()
    assert checkpointing.load_env_model(target, path) == expected_path
    for value, old in zip(_values(target), expected):
      np.testing.assert_array_equal(value, old)
  assert not np.array_equal(at_prefix[0], at_directory[0])


def test_env_model_loads_into_an_agent_and_reaches_the_actors(tmp_path):
  source = _conv_env_model()
  prefix = checkpointing.save_env_model(source, str(tmp_path / "env_model"))
  learner = learner_lib.Learner(fakes.small_agent("i2a"), learner_lib.LearnerConfig())
  checkpointing.load_env_model(learner.agent.env_model, prefix)
  frozen = learner.agent.frozen_variables
  weights = learner.get_weights()[-len(frozen):]  # What the actors receive.
  source_by_name = {v.name: v.numpy() for v in tf.Module.variables.fget(source)}
  assert len(frozen) == len(source_by_name) == 8
  for variable, value in zip(frozen, weights):
    np.testing.assert_array_equal(value, source_by_name[variable.name])


@pytest.mark.parametrize("case,error,match", [
    pytest.param("other_bins", checkpointing.CheckpointError, "do not fit", id="other_architecture"),
    pytest.param("learner_checkpoint", checkpointing.CheckpointError, "no 'env_model'", id="not_env_model"),
    pytest.param("empty_directory", checkpointing.CheckpointError, "no checkpoint index", id="empty_dir"),
    pytest.param("unbuilt", ValueError, "build it", id="unbuilt_model"),
])
def test_env_model_load_errors(tmp_path, case, error, match):
  path = checkpointing.save_env_model(_conv_env_model(), str(tmp_path / "env_model"))
  target = _conv_env_model()
  if case == "other_bins":
    target = _conv_env_model(bins=(-1.0, 0.0, 1.0, 2.0))
  elif case == "learner_checkpoint":
    path = checkpointing.Checkpointer(str(tmp_path / "run"), 1, agent=_linear()).save(1)
  elif case == "empty_directory":
    path = str(tmp_path / "nothing")
    os.makedirs(path)
  elif case == "unbuilt":
    target = i2a.SizePreservingConvNetModel(5, (-1.0, 0.0, 1.0))
  with pytest.raises(error, match=match):
    checkpointing.load_env_model(target, path)


def _save_steps(directory, steps, max_to_keep=5):
  """Saves a Linear whose bias is [step] * 4 at each step; returns (linear, checkpointer)."""
  linear = _linear()
  checkpointer = checkpointing.Checkpointer(str(directory), max_to_keep, model=linear)
  for step in steps:
    linear.b.assign([float(step)] * 4)
    checkpointer.save(step)
  return linear, checkpointer


def _steps_on_disk(directory):
  return sorted(step for step, _ in checkpointing.checkpoints_on_disk(str(directory)))


@pytest.mark.parametrize("damage", ["delete", "garble", "stale"])
def test_lost_index_resumes_from_the_newest_checkpoint_and_never_overwrites(tmp_path, damage):
  _save_steps(tmp_path, (1, 2, 3))
  index = tmp_path / "checkpoint"
  if damage == "delete":
    index.unlink()
  elif damage == "garble":
    index.write_bytes(b"\x00garbage {{{ \xff")
  else:  # Names an older checkpoint (as after a crash between writing ckpt-3 and the index).
    index.write_text('model_checkpoint_path: "ckpt-1"\nall_model_checkpoint_paths: "ckpt-1"\n')
  linear = _linear()
  checkpointer = checkpointing.Checkpointer(str(tmp_path), 5, model=linear)
  assert checkpointer.restore_latest(repair=True)
  np.testing.assert_array_equal(linear.b.numpy(), [3.0] * 4)
  assert checkpointer.latest_path == os.path.join(str(tmp_path), "ckpt-3")
  checkpointer.save(4)
  assert _steps_on_disk(tmp_path) == [1, 2, 3, 4]


def test_save_refuses_to_overwrite_a_checkpoint_the_index_does_not_list(tmp_path):
  _save_steps(tmp_path, (1, 2))
  (tmp_path / "checkpoint").unlink()
  before = open(tmp_path / "ckpt-2.index", "rb").read()
  with pytest.raises(checkpointing.CheckpointError, match="Refusing to overwrite.*ckpt-2"):
    checkpointing.Checkpointer(str(tmp_path), 5, model=_linear()).save(2)
  assert open(tmp_path / "ckpt-2.index", "rb").read() == before


@pytest.mark.parametrize("repair", [False, True])
def test_corrupt_newest_checkpoint_falls_back_to_the_newest_readable(tmp_path, repair, caplog):
  _save_steps(tmp_path, (1, 2, 3))
  for step in (2, 3):  # Both newer ones truncated.
    (data,) = glob.glob(str(tmp_path / f"ckpt-{step}.data*"))
    with open(data, "r+b") as f:
      f.truncate(os.path.getsize(data) // 2)
  linear = _linear()
  checkpointer = checkpointing.Checkpointer(str(tmp_path), 5, model=linear)
  with caplog.at_level("WARNING"):
    assert checkpointer.restore_latest(repair=repair)
  np.testing.assert_array_equal(linear.b.numpy(), [1.0] * 4)
  assert [os.path.basename(p) for p, _ in checkpointer.skipped] == ["ckpt-3", "ckpt-2"]
  assert all("unreadable" in reason for _, reason in checkpointer.skipped)
  assert "Skipping checkpoint" in caplog.text and "ckpt-3" in caplog.text
  if repair:  # Moved aside, not deleted; the run saves step 2 again without touching them.
    assert _steps_on_disk(tmp_path) == [1]
    assert sorted(os.listdir(tmp_path / "unreadable"))[0].startswith("ckpt-2.data")
    checkpointer.save(2)
    assert checkpointer.latest_path == os.path.join(str(tmp_path), "ckpt-2")
  else:  # Evaluation only reads.
    assert _steps_on_disk(tmp_path) == [1, 2, 3] and not os.path.exists(tmp_path / "unreadable")


def test_no_readable_checkpoint_refuses_to_start_over(tmp_path):
  _save_steps(tmp_path, (1, 2))
  (tmp_path / "checkpoint").unlink()
  for data in glob.glob(str(tmp_path / "ckpt-*.data*")):
    os.remove(data)
  with pytest.raises(checkpointing.CheckpointError, match="No readable checkpoint.*ckpt-2.*ckpt-1"):
    checkpointing.Checkpointer(str(tmp_path), 5, model=_linear()).restore_latest(repair=True)
  assert _steps_on_disk(tmp_path) == [1, 2]


def test_a_checkpoint_of_other_objects_is_not_skipped(tmp_path):
  _save_steps(tmp_path, (1, 2))
  with pytest.raises(checkpointing.CheckpointError, match="ckpt-2.*do not fit"):
    checkpointing.Checkpointer(str(tmp_path), 5, model=_linear(5)).restore_latest()
