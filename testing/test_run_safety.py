"""Runs that never lose work: lost checkpoint index, locked and unwritable logdirs, the stored config,
stop signals, deterministic runs and environment seeds that continue across a resume."""
import glob
import json
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from i2a import seeds
from i2a.training import backends
from i2a.training import checkpointing
from i2a.training import environments
from i2a.training import loop
from i2a.training import stored_config
from i2a.training import rundir
from testing import signalled_runs
from testing import test_train_local

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
T, B = test_train_local.T, test_train_local.B
tiny_config = test_train_local.tiny_config


def _resumes(logdir):
  with open(os.path.join(logdir, "resumes.jsonl")) as f:
    return [json.loads(line) for line in f]


def _steps(logdir):
  return sorted(step for step, _ in checkpointing.checkpoints_on_disk(os.path.join(logdir, "checkpoints")))


def test_a_deleted_checkpoint_index_resumes_instead_of_starting_over(tmp_path):
  loop.train(tiny_config(tmp_path, total_frames=3 * T * B, checkpoint_every_frames=T * B, max_checkpoints=5))
  os.remove(tmp_path / "checkpoints" / "checkpoint")
  result = loop.train(tiny_config(tmp_path, total_frames=5 * T * B, checkpoint_every_frames=T * B,
                                  max_checkpoints=5))
  (resumed,) = _resumes(tmp_path)
  assert resumed["learner_step"] == 3 and result["learner_step"] == 5
  assert _steps(tmp_path) == [1, 2, 3, 4, 5]


def test_a_corrupt_newest_checkpoint_is_skipped_and_named(tmp_path):
  loop.train(tiny_config(tmp_path, total_frames=3 * T * B, checkpoint_every_frames=T * B, max_checkpoints=5))
  (data,) = glob.glob(str(tmp_path / "checkpoints" / "ckpt-3.data*"))
  with open(data, "r+b") as f:
    f.truncate(os.path.getsize(data) // 2)
  loop.train(tiny_config(tmp_path, total_frames=4 * T * B, checkpoint_every_frames=T * B, max_checkpoints=5))
  (resumed,) = _resumes(tmp_path)
  assert resumed["learner_step"] == 2
  assert [os.path.basename(p) for p in resumed["skipped_checkpoints"]] == ["ckpt-3"]
  assert os.path.exists(tmp_path / "checkpoints" / "unreadable" / "ckpt-3.index")


def test_the_resolved_config_is_stored_and_loads_back_equal(tmp_path):
  config = tiny_config(tmp_path, total_frames=T * B)
  loop.train(config)
  stored = stored_config.load(str(tmp_path))
  assert stored.agent.precision == "float32"  # Resolved before it was stored (the standard agent's).
  assert stored == dataclass_replace(config, agent=config.agent.with_resolved_precision())
  assert stored_config.load(str(tmp_path / "nothing")) is None


def test_a_resume_that_changes_the_experiment_is_refused_naming_each_change(tmp_path):
  loop.train(tiny_config(tmp_path, total_frames=T * B))
  changed = tiny_config(tmp_path, total_frames=2 * T * B, unroll_length=4, batch_size=2,
                        learner=loop.learner_lib.LearnerConfig(learning_rate=2e-3))
  with pytest.raises(ValueError, match=r"batch_size: 4 -> 2.*learner.learning_rate: 0.001 -> 0.002.*"
                                       r"unroll_length: 5 -> 4"):
    loop.train(changed)
  assert not os.path.exists(tmp_path / "resumes.jsonl")
  allowed = tiny_config(tmp_path, total_frames=2 * T * B, num_actors=1, log_every_secs=3.0)
  assert loop.train(allowed)["learner_step"] == 2  # total_frames, num_actors, logging may change.
  loop.train(dataclass_replace(changed, total_frames=3 * 4 * 2 + 2 * T * B), allow_config_change=True)
  assert _resumes(tmp_path)[-1]["config_changes"][0] == "batch_size: 4 -> 2"
  assert stored_config.load(str(tmp_path)).batch_size == 2


def dataclass_replace(config, **kwargs):
  import dataclasses  # pylint: disable=g-import-not-at-top
  return dataclasses.replace(config, **kwargs)


def test_a_logdir_in_use_by_another_process_is_refused(tmp_path):
  holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
      import importlib.util, time
      spec = importlib.util.spec_from_file_location("rundir", {rundir.__file__!r})
      rundir = importlib.util.module_from_spec(spec)
      spec.loader.exec_module(rundir)
      lock = rundir.DirectoryLock({str(tmp_path)!r}).acquire()
      print("locked", flush=True)
      time.sleep(300)""")], stdout=subprocess.PIPE, text=True)
  try:
    assert holder.stdout.readline().strip() == "locked"
    with pytest.raises(rundir.RunDirectoryError, match=f"logdir .* is in use by pid {holder.pid}"):
      loop.train(tiny_config(tmp_path))
  finally:
    holder.kill()
    holder.wait()
  assert not os.path.exists(tmp_path / "checkpoints")


def test_an_unwritable_logdir_is_refused_before_training(tmp_path):
  (tmp_path / "file").write_text("x")
  with pytest.raises(rundir.RunDirectoryError, match="Cannot write to"):
    loop.train(tiny_config(tmp_path / "file" / "run"))


def test_bad_periods_are_refused():
  for kwargs in (dict(checkpoint_every_secs=-1.0), dict(checkpoint_every_frames=0), dict(max_seconds=0.0)):
    with pytest.raises(ValueError, match="must be > 0"):
      tiny_config("unused", **kwargs)
  with pytest.raises(ValueError, match="needs a seed"):
    tiny_config("unused", deterministic=True, seed=None)


# Trains until stopped; prints the result's learner step and stop signal.
TRAIN_UNTIL_STOPPED = textwrap.dedent("""
    import json, sys
    from i2a.training import loop
    from testing import test_train_local
    result = loop.train(test_train_local.tiny_config(sys.argv[1], total_frames=10**9))
    print(json.dumps(dict(step=result["learner_step"], stopped_by=result["stopped_by"])), flush=True)
""")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_stop_signal_saves_a_checkpoint_and_exits_cleanly(tmp_path, signum):
  def ready():  # A first step logged.
    events = glob.glob(str(tmp_path / "events.*"))
    return bool(events) and max(os.path.getsize(p) for p in events) >= 200

  def nothing_saved_yet():  # No periodic save in this config: all work is unsaved so far.
    assert _steps(tmp_path) == []

  result = signalled_runs.run_until_signalled([TRAIN_UNTIL_STOPPED, str(tmp_path)], ready, signum,
                                              before_signal=nothing_saved_yet)
  assert result["stopped_by"] == signal.Signals(signum).name and result["step"] >= 1
  assert _steps(tmp_path) == [result["step"]]


def _final_weights(logdir):
  learner, checkpointer = loop.build_learner(stored_config.load(str(logdir)))
  assert checkpointer.restore_latest()
  return learner.get_weights()


def test_deterministic_runs_with_one_seed_give_bit_identical_weights(tmp_path):
  weights = []
  for name, seed in (("a", 3), ("b", 3), ("c", 4)):
    loop.train(tiny_config(tmp_path / name, total_frames=4 * T * B, seed=seed, deterministic=True))
    weights.append(_final_weights(tmp_path / name))
  for same, other in zip(weights[0], weights[1]):
    np.testing.assert_array_equal(same, other)
  assert any(not np.array_equal(a, c) for a, c in zip(weights[0], weights[2]))


def test_a_deterministic_resume_is_reproducible(tmp_path):
  loop.train(tiny_config(tmp_path / "a", total_frames=2 * T * B, seed=5, deterministic=True))
  os.system(f"cp -r {tmp_path / 'a'} {tmp_path / 'b'}")
  for name in ("a", "b"):
    os.remove(tmp_path / name / rundir.LOCK_FILE)
    loop.train(tiny_config(tmp_path / name, total_frames=4 * T * B, seed=5, deterministic=True))
  for a, b in zip(_final_weights(tmp_path / "a"), _final_weights(tmp_path / "b")):
    np.testing.assert_array_equal(a, b)


def test_a_resumed_session_plays_new_levels_and_the_same_session_the_same_ones():
  config = tiny_config("unused")
  config = dataclass_replace(config, env=dataclass_replace(config.env, level_workers=0))
  def first_frames(session):
    builder = backends.ActorBuilder(config.agent, config.env, 2, 1, seed=1, session=session)
    return [environments.build_env(config.geometry, config.env, 2, seed=builder.seeds(i)[0]).reset().observation["rgb"]
            for i in range(2)]
  fresh, resumed, again = first_frames(0), first_frames(40), first_frames(40)
  assert backends.ActorBuilder(config.agent, config.env, 2, 1, seed=1).seeds(0) == seeds.actor(1, 0, 0)
  for a, b, c in zip(fresh, resumed, again):
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(b, c)


@pytest.mark.parametrize("layers", [((0,), (3,), (1,)), ((8,), (0,), (1,)), ((8,), (3,), (0,))],
                         ids=["zero_channels", "zero_kernel", "zero_stride"])
def test_a_torso_with_a_zero_size_is_refused(layers):
  from i2a import frame_processing  # pylint: disable=g-import-not-at-top
  with pytest.raises(ValueError, match="must be an integer >= 1"):
    frame_processing.TorsoConfig(*layers)
