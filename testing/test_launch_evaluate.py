"""launch/evaluate.py: exact episode counts per copy, Boxoban levels each played once, JSON and CSV."""
import csv
import json

import numpy as np
import pytest

from i2a.training import evaluation
from i2a.training import inference
from launch import evaluate
from i2a.training import loop
from testing import fakes

TINY = ["--env=sokoban", "--room_size=5", "--num_boxes=1", "--pixels_per_cell=1", "--max_steps=10", "--torso=4:3:2",
        "--hidden_size=8", "--eval_envs=4", "--seed=3"]


@pytest.mark.parametrize("episodes", [1, 3], ids=["one_each", "three_each"])
def test_play_counts_exactly_k_episodes_per_copy(episodes):
  env = fakes.FakeBatchedEnv(3)
  agent = fakes.small_agent(**fakes.FAKE_ENV)
  returns, terminal = evaluation.play(inference.AgentActions(agent, 3), env, episodes)
  expected = sorted((fakes.episode_return(i, k), fakes.is_terminal(i, k))
                    for i in range(3) for k in range(episodes))
  got = sorted(zip(returns.tolist(), terminal.tolist()))
  assert len(got) == 3 * episodes
  np.testing.assert_allclose([g[0] for g in got], [e[0] for e in expected])
  assert [g[1] for g in got] == [e[1] for e in expected]


def _checkpoint(config):
  learner, checkpointer = loop.build_learner(config)
  checkpointer.save(0)


def test_sokoban_generated_levels_per_box_count(parse_train_config, tmp_path):
  config = parse_train_config(*TINY, f"--logdir={tmp_path}", "--num_levels=6", "--box_counts=1,2")
  _checkpoint(config)
  rows = evaluate.evaluate(config)
  assert [(r["box_count"], r["episodes"]) for r in rows] == [(1, 8), (2, 8)]  # 4 copies x 2 episodes.
  for row in rows:
    assert row["fraction_solved"] == pytest.approx(row["solved"] / row["episodes"])
  evaluate.write_results(rows, str(tmp_path / "eval"))
  assert json.loads((tmp_path / "eval" / "results.json").read_text()) == rows
  with open(tmp_path / "eval" / "results.csv") as f:
    table = list(csv.DictReader(f))
  assert [int(r["box_count"]) for r in table] == [1, 2] and "fraction_solved" in table[0]


def test_boxoban_directory_plays_each_level_once(parse_train_config, tmp_path):
  levels = tmp_path / "levels"
  levels.mkdir()
  # Five 5x5 levels; in the first two the player solves by pushing the box right (one push).
  blocks = ["#####\n#@$.#\n#   #\n#   #\n#####", "#####\n#   #\n#@$.#\n#   #\n#####",
            "#####\n#.  #\n# $ #\n#  @#\n#####", "#####\n#@  #\n# $ #\n#  .#\n#####",
            "#####\n#.  #\n#$  #\n#@  #\n#####"]
  (levels / "000.txt").write_text("\n\n".join(f"; {i}\n{b}" for i, b in enumerate(blocks)) + "\n")
  config = parse_train_config(*TINY, f"--logdir={tmp_path}", f"--levels={levels}")
  _checkpoint(config)
  (row,) = evaluate.evaluate(config)
  assert row["episodes"] == 5 and row["levels"] == str(levels)
  assert 0 <= row["solved"] <= 5


def test_evaluate_without_checkpoint_is_refused(parse_train_config, tmp_path):
  with pytest.raises(ValueError, match="no checkpoint"):
    evaluate.evaluate(parse_train_config(*TINY, f"--logdir={tmp_path}"))


def test_outer_search_reports_table_1_figures_with_the_perfect_model(parse_train_config, tmp_path):
  config = parse_train_config(*TINY, f"--logdir={tmp_path}", "--outer_search", "--perfect_model",
                              "--num_levels=2", "--max_retries=2")
  _checkpoint(config)
  (row,) = evaluate.evaluate(config)
  assert row["episodes"] == 2 and row["max_retries"] == 2 and row["mean_model_steps"] > 0
  assert row["fraction_found"] == row["fraction_solved"]  # A perfect model never claims a false plan.


def test_outer_search_is_refused_for_minipacman(parse_train_config, tmp_path):
  config = parse_train_config("--env=minipacman", "--torso=4:3:2", "--hidden_size=8", f"--logdir={tmp_path}",
                              "--outer_search")
  _checkpoint(config)
  with pytest.raises(ValueError, match="--outer_search"):
    evaluate.evaluate(config)
