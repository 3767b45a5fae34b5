"""launch/mcts_sokoban.py and launch/train_value_net.py: results on small rooms, the value network round
trip between the two, and one-line errors for bad flags."""
import json
import os
import subprocess
import sys

from absl import flags
import pytest

from launch import mcts_sokoban
from launch import train_value_net

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _flags(binary, *args):
  """The global FLAGS parsed as `binary`'s command line (every binary defines its flags at import)."""
  flags.FLAGS.unparse_flags()
  flags.FLAGS([binary.__name__, *args])
  return flags.FLAGS


@pytest.fixture(autouse=True)
def _unparse():
  yield
  flags.FLAGS.unparse_flags()


def test_mcts_solves_small_generated_rooms():
  results = mcts_sokoban.run(_flags(mcts_sokoban, "--room_size=6", "--num_boxes=1", "--num_levels=5",
                                    "--budget=5000", "--seed=0"))
  assert results["levels"] == 5 and results["fraction_solved"] == 1.0
  assert 0 < results["mean_simulator_steps"] <= 5000 and results["microseconds_per_simulator_step"] > 0


def test_value_network_trained_then_used_by_mcts(tmp_path):
  out = str(tmp_path / "value")
  trained = train_value_net.run(_flags(train_value_net, "--room_size=5", "--num_boxes=1",
                                       "--num_levels=4", "--steps=3", "--batch_size=8", f"--out={out}"))
  assert trained["train_positions"] > 0 and trained["test_positions"] > 0
  results = mcts_sokoban.run(_flags(mcts_sokoban, "--room_size=5", "--num_boxes=1", "--num_levels=2",
                                    "--budget=2000", "--value=net", f"--value_checkpoint={out}"))
  assert results["value"] == "net" and results["levels"] == 2
  with pytest.raises(ValueError, match="5x5 rooms, not 6x6"):
    mcts_sokoban.run(_flags(mcts_sokoban, "--room_size=6", "--num_boxes=1", "--value=net",
                            f"--value_checkpoint={out}"))


@pytest.mark.parametrize("args,message", [
    (["--value=net"], "needs --value_checkpoint"),
    (["--room_size=4", "--num_boxes=2"], "do not fit"),
])
def test_bad_flags_are_refused(args, message):
  with pytest.raises(ValueError, match=message):
    mcts_sokoban.run(_flags(mcts_sokoban, *args))


def test_bad_flag_gives_one_line_and_no_traceback(tmp_path):
  proc = subprocess.run([sys.executable, "-m", "launch.mcts_sokoban", "--value=net",
                         f"--out={tmp_path / 'r.json'}"], cwd=REPO, capture_output=True, text=True,
                        timeout=300, check=False)
  assert proc.returncode != 0 and "Traceback" not in proc.stderr
  assert "--value=net needs --value_checkpoint" in proc.stderr
  assert not os.path.exists(tmp_path / "r.json")


def test_results_file_is_written(tmp_path):
  out = tmp_path / "sub" / "results.json"
  flags_ = _flags(mcts_sokoban, "--room_size=5", "--num_boxes=1", "--num_levels=1", "--budget=500",
                  f"--out={out}")
  results = mcts_sokoban.run(flags_)
  mcts_sokoban.write(results, flags_.out)
  assert json.loads(out.read_text()) == results
