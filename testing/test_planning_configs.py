"""Flag files of the planning and generalisation experiments (paper Tables 1 and 2) parse to the paper's
settings in the binaries that read them."""
import os

from absl import flags
import pytest

from launch import evaluate  # pylint: disable=unused-import  (defines --box_counts etc.)
from launch import mcts_sokoban
from launch import train_value_net

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = os.path.join(REPO, "launch", "configs")


@pytest.mark.parametrize("agent", ["sokoban_i2a_depth5", "sokoban_standard"])
def test_generalisation_file_evaluates_one_to_seven_boxes(parse_train_config, monkeypatch, agent):
  monkeypatch.chdir(REPO)
  config = parse_train_config(f"--flagfile=launch/configs/{agent}.flags",
                              "--flagfile=launch/configs/sokoban_generalisation_boxes.flags")
  assert flags.FLAGS.box_counts == [str(b) for b in range(1, 8)]  # Paper Table 2: 1-7 boxes.
  assert flags.FLAGS.num_levels == 1000
  assert config.env.num_boxes == 4 and config.logdir == f"runs/{agent}"  # Trained on 4 boxes.


def _parse(binary, name):
  flags.FLAGS.unparse_flags()
  flags.FLAGS([binary.__name__, f"--flagfile={os.path.join(CONFIGS, name)}"])
  return binary.settings(flags.FLAGS)


@pytest.fixture(autouse=True)
def _unparse():
  yield
  flags.FLAGS.unparse_flags()


@pytest.mark.parametrize("name,budget", [("mcts_sokoban_25k.flags", 25_000),
                                         ("mcts_sokoban_100k.flags", 100_000)])
def test_mcts_files_give_table_1_points(name, budget):
  fv = _parse(mcts_sokoban, name)
  assert (fv.budget, fv.room_size, fv.num_boxes, fv.num_levels) == (budget, 10, 4, 250)
  assert fv.value == "net" and fv.value_checkpoint == "runs/mcts_value_net" and fv.exploration == 1.0


def test_value_net_file_writes_where_mcts_reads():
  fv = _parse(train_value_net, "mcts_value_net.flags")
  assert (fv.room_size, fv.num_boxes, fv.output_dir) == (10, 4, "runs/mcts_value_net")
  assert fv.discount == _parse(mcts_sokoban, "mcts_sokoban_25k.flags").discount
