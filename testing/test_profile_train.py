"""launch/profile_train.py and i2a/profiling/op_profile.py: the cost tables' arithmetic, and a smoke run of
the binary on a tiny I2A (the TensorFlow profiler's op statistics parsed into tables summing to 100%)."""
import re

import pytest

from i2a.profiling import op_profile
from launch import profile_train

TINY = ["--env=minipacman", "--agent=i2a", "--torso=4:3:2", "--hidden_size=8", "--lstm_size=8",
        "--rollout_hidden_size=8", "--rollout_depth=2", "--batch_size=2", "--unroll_length=2",
        "--envs_per_actor=2", "--profile_steps=2", "--seed=1"]


@pytest.mark.parametrize("kernel,expected,model", [
    ("_MklNativeFusedConv2D", "Conv2D", True), ("_MklMatMul", "MatMul", True),
    ("_MklNativeConv2DBackpropFilterWithBias", "Conv2DBackpropFilterWithBias", True),
    ("BatchMatMulV2", "BatchMatMulV2", True), ("Cast", "Cast", False), ("StridedSliceGrad", "StridedSliceGrad", False),
    ("_MklSoftmax", "Softmax", False)])
def test_kernel_types_are_named_and_classed(kernel, expected, model):
  assert op_profile.normalize_type(kernel) == expected
  assert op_profile.is_model_type(expected) == model


def test_overlapping_ops_are_scaled_to_the_in_graph_time():
  stats = [op_profile.OpStat("Conv2D", 3.0, 10), op_profile.OpStat("Cast", 1.0, 10)]  # 4 s on 2 threads.
  rows = op_profile.cost_table(stats, wall_seconds=3.0, graph_seconds=2.0, steps=2,
                               outside={"environment step (Python)": 0.5})
  by_name = {r.cost: r for r in rows}
  assert by_name["Conv2D"].seconds == pytest.approx(0.75)  # 3 s x (2 / 4) over 2 steps.
  assert by_name["Conv2D"].model and not by_name["cast"].model
  assert by_name["cast"].percent == pytest.approx(100 * 0.5 / 3.0)
  assert by_name["environment step (Python)"].percent == pytest.approx(100 * 0.5 / 3.0)
  assert by_name["other Python (outside graph)"].seconds == pytest.approx(0.25)
  assert sum(r.percent for r in rows) == pytest.approx(100.0)
  assert [r.percent for r in rows] == sorted((r.percent for r in rows), reverse=True)


def test_in_graph_time_without_ops_is_its_own_row_and_small_groups_are_summed():
  stats = [op_profile.OpStat(t, 0.1, 1) for t in ("MatMul", "Cast", "Mul", "AddV2")]
  rows = op_profile.cost_table(stats, wall_seconds=1.0, graph_seconds=1.0, steps=1, top=2)
  by_name = {r.cost: r for r in rows}
  assert by_name["executor/dispatch, feeds & fetches"].percent == pytest.approx(60.0)
  assert by_name["other ops"].percent == pytest.approx(20.0)
  assert len(rows) == 4 and sum(r.percent for r in rows) == pytest.approx(100.0)
  text = op_profile.format_table("t", rows)
  assert "model 10.0%" in text and "executor/dispatch, feeds & fetches 60.0% (above the 10% bar)" in text


@pytest.mark.parametrize("operation,module", [
    ("sokoban_env_model/LeakyRelu_1", "sokoban_env_model"),
    ("gradient_tape/single_imag_feature/frame_processing/Conv2DBackpropInput", "single_imag_feature"),
    ("imag_path/rollout_encoder_lstm/MatMul", "imag_path/rollout_encoder_lstm"),
    ("gradient_tape/imag_path/rollout_encoder_lstm/MatMul_1", "imag_path/rollout_encoder_lstm"),
    ("imag_path/Repeat/Tile", "imag_path"), ("cond/then/_45", op_profile.NO_MODULE),
    ("mul_3", op_profile.NO_MODULE)])
def test_ops_are_attributed_to_their_module(operation, module):
  assert op_profile.module_of(operation) == module


def _module_tables(output: str) -> dict:
  """{'actor': {module: percent}, 'learner': {...}} parsed from the binary's by-module tables."""
  tables, current = {}, None
  for line in output.splitlines():
    if re.match(r"^(actor|learner) step by module", line):
      current = tables.setdefault(line.split()[0], {})
    elif re.match(r"^(actor|learner) step \(", line):
      current = None
    elif current is not None and (match := re.match(r"^(.+?)\s+([\d.]+)\s+([\d.]+)%$", line)):
      current[match[1]] = float(match[3])
  return tables


def _tables(output: str) -> dict:
  """{'actor': [(cost, class, ms, percent)], 'learner': [...]} parsed from the binary's output."""
  tables, current = {}, None
  for line in output.splitlines():
    if re.match(r"^(actor|learner) step \(", line):
      current = tables.setdefault(line.split()[0], [])
    elif re.match(r"^(actor|learner) step by module", line):
      current = None  # A by-module table (`_module_tables`), whose 'environment model' row would match.
    elif current is not None and (match := re.match(r"^(.+?)\s+(model|other)\s+([\d.]+)\s+([\d.]+)%$", line)):
      current.append((match[1], match[2], float(match[3]), float(match[4])))
  return tables


def test_binary_prints_actor_and_learner_tables_summing_to_100(parse_flags, tmp_path, capsys):
  parse_flags(profile_train, *TINY, f"--profile_logdir={tmp_path}")
  profile_train.main(["profile_train"])
  output = capsys.readouterr().out
  assert "cost" in output and "class" in output and "ms/step" in output and "% wall" in output
  tables = _tables(output)
  assert set(tables) == {"actor", "learner"}
  for phase, rows in tables.items():
    assert sum(r[3] for r in rows) == pytest.approx(100.0, abs=0.5), phase  # Rounded to 0.1% per row.
    costs = {r[0]: r[1] for r in rows}
    assert costs.get("Conv2D") == "model", phase  # The environment model's and the torsos' convolutions.
    assert all(r[2] >= 0 for r in rows)
  assert "environment step (Python)" in {r[0] for r in tables["actor"]}
  assert list((tmp_path / "actor" / "plugins" / "profile").glob("*/*.xplane.pb"))  # The traces stay.
  modules = _module_tables(output)
  assert set(modules) == {"actor", "learner"}
  for phase, shares in modules.items():
    assert sum(shares.values()) == pytest.approx(100.0, abs=0.5), phase
  # Acting imagines with the environment model; with imagination reused the learner never runs it.
  assert modules["actor"]["environment model"] > 0 and "environment model" not in modules["learner"]
  assert modules["learner"]["rollout encoder: LSTM"] > 0 and modules["learner"]["rollout policy"] > 0
