"""Kill-and-resume: a SIGKILLed run restarts from its checkpoint with frames, optimiser and step intact."""
import glob
import json
import os
import signal
import subprocess
import sys
import time

from absl import flags
import pytest

from i2a.training import checkpointing
from i2a.training import loop
from launch import flags_to_config
from launch import train  # pylint: disable=unused-import  (its flags)
from testing import test_train_local

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FRAMES_PER_STEP = 5 * 2  # unroll_length * batch_size below.


def tiny_flags(logdir, total_frames):
  return ["--game=sokoban", "--room_size=5", "--num_boxes=1", "--pixels_per_cell=1", "--max_steps=10", "--torso=4:3:2",
          "--hidden_size=8", "--num_actors=1", "--envs_per_actor=2", "--batch_size=2", "--unroll_length=5",
          "--checkpoint_every_frames=20", "--checkpoint_every_secs=unset", "--log_every_secs=5", "--seed=1",
          f"--total_frames={total_frames}", f"--logdir={logdir}"]


def restored_summary(argv) -> dict:
  """Restores the newest checkpoint of the run that `argv` configures, in this process."""
  fv = flags.FLAGS
  try:
    fv.unparse_flags()
    fv(["train", *argv])
    learner, checkpointer = loop.build_learner(flags_to_config.train_config_from_flags(fv))
  finally:
    fv.unparse_flags()
  assert checkpointer.restore_latest()
  return loop.state_summary(learner)


def test_sigkilled_run_resumes_with_state_intact(tmp_path):
  logdir = tmp_path / "run"
  command = [sys.executable, "-m", "launch.train"]
  first = subprocess.Popen(command + tiny_flags(logdir, 10**9), cwd=REPO, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
  try:
    deadline = time.monotonic() + 300
    while len(glob.glob(str(logdir / "checkpoints" / "ckpt-*.index"))) < 2:
      assert first.poll() is None, "the first run exited before writing two checkpoints"
      assert time.monotonic() < deadline, "no checkpoint within 300 s"
      time.sleep(0.2)
  finally:
    first.send_signal(signal.SIGKILL)
    first.wait()
  assert first.returncode == -signal.SIGKILL
  at_kill = restored_summary(tiny_flags(logdir, 10**9))
  assert at_kill["learner_step"] >= 4 and at_kill["num_frames"] == at_kill["learner_step"] * FRAMES_PER_STEP
  assert at_kill["optimizer_checksum"] > 0  # RMSprop's mean squares are not fresh zeros.

  total = at_kill["num_frames"] + 2 * FRAMES_PER_STEP
  second = subprocess.run(command + tiny_flags(logdir, total), cwd=REPO, capture_output=True, text=True,
                          timeout=300, check=False)
  assert second.returncode == 0, second.stderr[-3000:]
  with open(logdir / "resumes.jsonl") as f:
    (resumed,) = [json.loads(line) for line in f]
  assert (resumed["num_frames"], resumed["learner_step"]) == (at_kill["num_frames"], at_kill["learner_step"])
  for key in ("weights_checksum", "optimizer_checksum"):
    assert resumed[key] == pytest.approx(at_kill[key], rel=1e-6)
  final = restored_summary(tiny_flags(logdir, total))
  assert (final["learner_step"], final["num_frames"]) == (at_kill["learner_step"] + 2, total)
  assert final["optimizer_checksum"] != pytest.approx(at_kill["optimizer_checksum"], rel=1e-9)


@pytest.mark.parametrize("damage", ["truncate_data", "delete_data"])
def test_corrupt_checkpoint_gives_a_clear_error(tmp_path, damage):
  config = test_train_local.tiny_config(tmp_path)
  learner, checkpointer = loop.build_learner(config)
  path = checkpointer.save(0)
  (data,) = glob.glob(path + ".data-*")
  if damage == "truncate_data":
    with open(data, "r+b") as f:
      f.truncate(os.path.getsize(data) // 2)
  else:
    os.remove(data)
  del learner
  with pytest.raises(checkpointing.CheckpointError, match="ckpt-0"):
    loop.train(config)
