"""launch.benchmark_train end to end on a tiny agent: every row and the FLOP-ceiling line print.

The benchmark's numbers are machine facts and are not asserted; what is tested is that the binary runs
through an imagining agent's row (its FLOP-ceiling line once failed on a stale flag name) and prints
the columns the closing notes quote.
"""
import os
import re
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TINY = ["--games=minipacman", "--agents=standard,i2a", "--precisions=float32", "--reuse=true,false",
        "--torso=4:3:2", "--hidden_size=8", "--lstm_size=8", "--rollout_hidden_size=8",
        "--batch_size=2", "--unroll_length=2", "--learner_steps=1", "--skip_full_training"]


def test_benchmark_train_prints_a_row_per_setting_and_the_flop_ceiling():
  done = subprocess.run([sys.executable, "-m", "launch.benchmark_train", *TINY], cwd=REPO,
                        capture_output=True, text=True, timeout=900, check=False)
  assert done.returncode == 0, done.stderr[-3000:]
  rows = [line.split() for line in done.stdout.splitlines() if line.startswith("minipacman ")]
  # standard has nothing to reuse (one row); I2A one row per reuse setting.
  assert [(r[1], r[2], r[3]) for r in rows] == [
      ("standard", "float32", "off"), ("i2a", "float32", "on"), ("i2a", "float32", "off")]
  for row in rows:
    assert row[4] == "nan"  # --skip_full_training
    assert float(row[5].replace(",", "")) > 0  # learner frames/s
  ceilings = [line for line in done.stdout.splitlines() if "FLOP ceiling" in line]
  assert len(ceilings) == 2
  # The environment model's share: rollout depth x every action's rollout.
  assert all(re.search(r"env model [\d,]+ = 5 steps x every action's rollout", c) for c in ceilings), ceilings
  assert re.search(r"matmul peak: [\d.]+ GFLOP/s \(float32", done.stdout)


SOKOBAN_TINY = ["--games=sokoban", "--room_size=6", "--num_boxes=1", "--pixels_per_cell=2",
                "--agents=copy,i2a", "--env_model_sizes=good,small", "--precisions=float32", "--reuse=true",
                "--torso=4:3:2", "--hidden_size=8", "--lstm_size=8", "--rollout_hidden_size=8",
                "--batch_size=2", "--unroll_length=2", "--learner_steps=1", "--skip_full_training"]


def test_benchmark_train_measures_each_environment_model_size_of_an_agent_that_has_one():
  """Before and after of a right-sized model in one run: a row per size for I2A (the copy agent has no
  learned model and nothing to reuse: one row), and the small model's FLOP ceiling line counts far fewer FLOPs."""
  done = subprocess.run([sys.executable, "-m", "launch.benchmark_train", *SOKOBAN_TINY], cwd=REPO,
                        capture_output=True, text=True, timeout=900, check=False)
  assert done.returncode == 0, done.stderr[-3000:]
  rows = [line.split() for line in done.stdout.splitlines() if line.startswith("sokoban ")]
  assert [(r[1], r[2], r[3]) for r in rows] == [
      ("copy", "float32", "off"), ("i2a", "float32", "on"), ("i2a/small", "float32", "on")]
  ceilings = [line for line in done.stdout.splitlines() if "FLOP ceiling" in line]
  model_mflops = [int(re.search(r"env model ([\d,]+) =", c)[1].replace(",", "")) for c in ceilings[1:]]
  assert len(ceilings) == 3 and model_mflops[1] < model_mflops[0] / 10, ceilings
