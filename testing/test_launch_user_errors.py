"""User mistakes end a launch binary with one line naming the problem and the fix, exit status 1, no
traceback; launch.evaluate rebuilds a run's agent from its stored config."""
import json
import os
import subprocess
import sys

from absl import flags
import pytest

from i2a.model_pipeline import collection
from i2a.model_pipeline import export
from i2a import games
from i2a.training import environments
from i2a.training import loop
from launch import common_flags
from launch import evaluate
from launch import train
from testing import test_train_local

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOKOBAN = ["--game=sokoban", "--room_size=5", "--num_boxes=1", "--pixels_per_cell=1", "--max_steps=10",
           "--torso=4:3:2", "--hidden_size=8"]


def _fail(binary, args, positional=()):
  """Runs the binary's guarded main on `args`; returns its one-line error."""
  flags.FLAGS.unparse_flags()
  flags.FLAGS([binary.__name__, *args])
  try:
    with pytest.raises(SystemExit) as info:
      common_flags.guard(binary.main)([binary.__name__, *positional])
  finally:
    flags.FLAGS.unparse_flags()
  message = info.value.code
  assert isinstance(message, str) and "\n" not in message, message  # sys.exit(str): status 1.
  return message


@pytest.fixture
def minipacman_model(tmp_path):
  directory = tmp_path / "pacman_model"
  directory.mkdir()
  (directory / "env_model.index").write_bytes(b"")
  export.write_metadata(str(directory), export.model_metadata(
      "learned", collection.data_header(games.Geometry("minipacman"), environments.EnvConfig(), "random", 0), "palette"))
  return str(directory / "env_model")


def test_train_mistakes(tmp_path, minipacman_model):
  logdir = f"--logdir={tmp_path / 'run'}"
  with pytest.raises(flags.IllegalFlagValueError, match="channels must be an integer >= 1"):
    _fail(train, [logdir, "--torso=0:3:1"])  # Refused as the flags are parsed.
  assert "Cannot generate 4x4 Sokoban levels" in _fail(train, [logdir, "--game=sokoban", "--room_size=4"])
  assert "checkpoint_every_secs must be > 0" in _fail(train, [logdir, "--checkpoint_every_secs=-1"])
  message = _fail(train, [logdir, *SOKOBAN, "--agent=i2a", f"--env_model_checkpoint={minipacman_model}"])
  assert "trained for another setting" in message and "game is 'minipacman'" in message
  bad = tmp_path / "levels.txt"
  bad.write_bytes(b"; 0\n#####\n#@$.#\n#   #\n#   #\n#####\n\xff\n")
  assert f"{bad}: not a UTF-8 text file" in _fail(train, [logdir, *SOKOBAN, f"--levels={bad}"])
  (tmp_path / "file").write_text("x")
  assert "Cannot write to" in _fail(train, [f"--logdir={tmp_path / 'file' / 'run'}", *SOKOBAN])
  assert "Unexpected arguments" in _fail(train, [logdir], positional=["extra"])


def _trained_sokoban_run(logdir):
  loop.train(test_train_local.tiny_config(logdir, total_frames=test_train_local.T * test_train_local.B))


def test_evaluate_uses_the_stored_config_and_refuses_contradicting_flags(tmp_path):
  _trained_sokoban_run(tmp_path / "run")
  flags.FLAGS.unparse_flags()
  flags.FLAGS(["evaluate", f"--logdir={tmp_path / 'run'}", "--num_levels=2", "--num_envs=2",
               f"--output_dir={tmp_path / 'eval'}"])
  try:
    common_flags.guard(evaluate.main)(["evaluate"])  # No game or agent flags: a Sokoban run anyway.
  finally:
    flags.FLAGS.unparse_flags()
  (row,) = json.load(open(tmp_path / "eval" / "results.json"))
  assert row["levels"] == "generated" and row["episodes"] == 2 and row["learner_step"] == 1
  message = _fail(evaluate, [f"--logdir={tmp_path / 'run'}", "--game=minipacman"])
  assert "was trained with other settings" in message and "game: 'sokoban' -> 'minipacman'" in message


def test_evaluate_mistakes(tmp_path):
  run = f"--logdir={tmp_path / 'run'}"
  assert "--num_levels=0" in _fail(evaluate, [run, *SOKOBAN, "--num_levels=0"])
  assert "--episodes=0" in _fail(evaluate, [run, "--episodes=0"])
  levels = tmp_path / "levels.txt"
  levels.write_text("; 0\n#####\n#@$.#\n#   #\n#   #\n#####\n")
  assert "Drop one of the two" in _fail(evaluate, [run, *SOKOBAN, f"--levels={levels}", "--box_counts=1,2"])
  assert "Unexpected arguments" in _fail(evaluate, [run], positional=["runs/x"])
  (tmp_path / "file").write_text("x")
  assert "Cannot write to" in _fail(evaluate, [run, f"--output_dir={tmp_path / 'file' / 'eval'}"])


def test_a_binary_s_mistake_is_one_line_on_stderr_without_traceback(tmp_path):
  done = subprocess.run([sys.executable, "-m", "launch.train", "--batch_size=20", "--envs_per_actor=16",
                         f"--logdir={tmp_path}"],
                        cwd=REPO, capture_output=True, text=True, timeout=600, check=False)
  assert done.returncode == 1 and "Traceback" not in done.stderr
  assert done.stderr.strip().splitlines()[-1].startswith("train.py: error: batch_size=20 must be a multiple")
