"""The evaluation-only tables of issue 24 on synthetic results with known answers: search (paper Table 1:
solve rate and model steps per level, the agent alone read off one perfect-model attempt) and
generalisation (paper Table 2: solve rate per box count over seeds, sampled play only), and
launch.report_evaluations writing them or refusing a bad item in one line."""
import csv
import json
import math

from absl import flags
import numpy as np
import pytest

from i2a.reporting import generalisation_table
from i2a.reporting import run_reader
from i2a.reporting import search_table
from launch import common_flags
from launch import report_evaluations

Z = 1.959963984540054  # The standard normal's 97.5% quantile.


def wilson(solved, played):
  """The Wilson score interval in closed form (Wilson 1927)."""
  p, n = solved / played, played
  centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
  half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
  return centre - half, centre + half


def outer_row(solved, levels=500, steps=260.0, retries=10, perfect=False, own=25, found=None):
  """One launch.evaluate --outer_search row, as search_models.evaluate_agent writes it."""
  return [dict(box_count=1, episodes=levels, solved=solved, fraction_solved=solved / levels,
               fraction_found=solved / levels if found is None else found, mean_model_steps=steps,
               mean_attempts=1.0, max_retries=retries, perfect_model=perfect, agent_model_steps_per_step=own,
               learner_step=10, num_frames=2_000_000, greedy=False)]


def write(path, data):
  path.mkdir(parents=True, exist_ok=True)
  (path / "results.json").write_text(json.dumps(data))
  return str(path)


@pytest.fixture(name="search_runs")
def search_runs_fixture(tmp_path):
  alone = [write(tmp_path / f"alone_s{s}", outer_row(k, steps=26.0 * length, retries=1, perfect=True))
           for s, (k, length) in enumerate([(490, 7.0), (500, 6.0), (470, 8.0)], 1)]
  outer = [write(tmp_path / f"outer_s{s}", outer_row(k, steps=steps, found=0.99))
           for s, (k, steps) in enumerate([(495, 300.0), (500, 360.0), (480, 420.0)], 1)]
  mcts = write(tmp_path / "mcts_25k", dict(room_size=6, num_boxes=1, levels=500, budget=25_000, solved=499,
                                           fraction_solved=0.998, mean_simulator_steps=730.5))
  return [("I2A", p) for p in alone] + [("I2A + outer search", p) for p in outer] + [("MCTS 25k", mcts)]


def test_search_rows_against_a_numpy_reference(search_runs):
  rows = search_table.compute(search_table.group(search_runs), resamples=1000)
  assert [r.method for r in rows] == ["I2A", "I2A + outer search", "MCTS 25k"]
  alone, outer, mcts = rows
  # Three runs: the interquartile mean cuts nothing (floor(3/4) = 0), so it is the plain mean.
  assert alone.solve_rate.value == pytest.approx(np.mean([490, 500, 470]) / 500)
  # The agent alone: of every 1 + 25 steps charged, the simulator's is the real move, 25 are its own.
  assert alone.model_steps == pytest.approx(np.mean([7.0, 6.0, 8.0]) * 25)
  assert outer.model_steps == pytest.approx(360.0) and outer.results[0].found == 0.99
  assert alone.wilson == pytest.approx(wilson(1460, 1500)) and outer.wilson == pytest.approx(wilson(1475, 1500))
  assert alone.solve_rate.low <= alone.solve_rate.value <= alone.solve_rate.high
  assert (mcts.model_steps, mcts.results[0].found, mcts.solve_rate.low) == (730.5, None, None)  # One run.
  assert mcts.wilson == pytest.approx(wilson(499, 500))


def test_search_markdown_and_csv(search_runs, tmp_path):
  rows = search_table.compute(search_table.group(search_runs), resamples=1000)
  lines = search_table.markdown(rows).splitlines()
  assert lines[2].startswith("| I2A | 3 | 500 | 97.3% [") and lines[2].endswith("| 175 [150-200] |")
  assert lines[4] == "| MCTS 25k | 1 | 500 | 99.8% | 99.8% [98.9%, 100.0%] | 730 |"
  search_table.write_csv(rows, str(tmp_path / "search.csv"))
  written = list(csv.DictReader(open(tmp_path / "search.csv")))
  assert len(written) == 7 and float(written[0]["model_steps_per_level"]) == 175.0
  assert written[6]["fraction_found"] == "" and written[6]["solved"] == "499"


def test_more_attempts_or_a_learned_model_charge_every_step(tmp_path):
  learned_one = search_table.read_result(write(tmp_path / "a", outer_row(400, steps=260.0, retries=1)))
  perfect_many = search_table.read_result(write(tmp_path / "b", outer_row(400, steps=260.0, perfect=True)))
  assert learned_one.model_steps == perfect_many.model_steps == 260.0


@pytest.mark.parametrize("data,message", [
    pytest.param([dict(levels="generated", box_count=1, episodes=5, solved=1, fraction_solved=0.2)],
                 "not one launch.evaluate --outer_search row", id="plain_evaluation"),
    pytest.param({"levels": 3}, "not one launch.evaluate --outer_search row", id="other_dict")])
def test_search_refuses_other_results(tmp_path, data, message):
  with pytest.raises(run_reader.ReportError, match=message):
    search_table.read_result(write(tmp_path / "x", data))
  with pytest.raises(run_reader.ReportError, match="Cannot read"):
    search_table.read_result(str(tmp_path / "missing"))


def evaluation(box_counts, solved, greedy=False):
  return [dict(levels="generated", box_count=b, episodes=500, solved=k, fraction_solved=k / 500,
               learner_step=10, num_frames=2_000_000, greedy=greedy) for b, k in zip(box_counts, solved)]


@pytest.fixture(name="agents")
def agents_fixture(tmp_path):
  groups = []
  for agent, table in (("standard", [(140, 30, 8), (150, 25, 5)]), ("I2A", [(500, 127, 36), (498, 110, 30),
                                                                            (500, 140, 40)])):
    dirs = []
    for seed, (one, two, three) in enumerate(table, 1):
      run = tmp_path / f"{agent}_s{seed}"
      write(run / "eval_sampled", evaluation((1, 2), (one, two)))
      write(run / "eval_greedy", evaluation((1, 2), (0, 0), greedy=True))  # Not the table's: greedy.
      write(run / "eval_boxes3", evaluation((3,), (three,)))
      dirs.append(str(run))
    groups.append((agent, dirs))
  return groups


def test_generalisation_cells_against_a_numpy_reference(agents):
  cells = generalisation_table.compute(agents, resamples=1000)
  assert [(c.agent, c.box_count) for c in cells] == [("standard", b) for b in (1, 2, 3)] + [("I2A", b) for b in (1, 2, 3)]
  i2a_two = cells[4]
  assert i2a_two.counts == ((127, 500), (110, 500), (140, 500))
  assert i2a_two.solve_rate.value == pytest.approx(np.mean([127, 110, 140]) / 500)
  assert i2a_two.wilson == pytest.approx(wilson(377, 1500))
  assert cells[0].solve_rate.value == pytest.approx(0.29) and cells[0].solve_rate.runs == 2
  assert cells[2].solve_rate.low <= cells[2].solve_rate.value <= cells[2].solve_rate.high


def test_generalisation_markdown_and_missing_box_counts(agents, tmp_path):
  partial = tmp_path / "partial_s1"
  write(partial / "eval_sampled", evaluation((1,), (400,)))
  cells = generalisation_table.compute(agents + [("copy", [str(partial)])], resamples=1000)
  lines = generalisation_table.markdown(cells).splitlines()
  assert lines[0] == "| agent | 1 box | 2 boxes | 3 boxes |"
  assert lines[2].startswith("| standard | 29.0% [28.0%, 30.0%] (2 seeds; levels [")
  assert lines[4] == "| copy | 80.0% (1 seed; levels [76.3%, 83.3%]) | - | - |"
  generalisation_table.write_csv(cells, str(tmp_path / "g.csv"))
  written = list(csv.DictReader(open(tmp_path / "g.csv")))
  assert (written[-1]["agent"], written[-1]["seeds"], written[-1]["ci_low"], written[-1]["played"]) == (
      "copy", "1", "", "500")
  with pytest.raises(run_reader.ReportError, match="no sampled evaluation"):
    generalisation_table.compute([("empty", [str(tmp_path / "nothing")])])


def _main(*args):
  flags.FLAGS.unparse_flags()
  flags.FLAGS(["report_evaluations", *args])
  try:
    return common_flags.guard(report_evaluations.main)(["report_evaluations"])
  finally:
    flags.FLAGS.unparse_flags()


def test_the_binary_writes_both_tables(search_runs, agents, tmp_path, capsys):
  items = lambda pairs: ",".join(f"{label}={path}" for label, path in pairs)
  general = [(agent, d) for agent, dirs in agents for d in dirs]
  _main(f"--output_dir={tmp_path / 'out'}", f"--search={items(search_runs)}", f"--generalisation={items(general)}")
  assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
      "generalisation.csv", "generalisation.md", "search.csv", "search.md"]
  assert "| MCTS 25k | 1 | 500 |" in (tmp_path / "out" / "search.md").read_text()
  assert str(tmp_path / "out" / "search.md") in capsys.readouterr().out


@pytest.mark.parametrize("args,message", [
    pytest.param(("--search=I2A=x",), "required", id="no_out"),
    pytest.param(("--output_dir=/tmp/x",), "Give --search or --generalisation", id="no_table"),
    pytest.param(("--output_dir=/tmp/x", "--search=nolabel"), "'nolabel' is not label=path", id="bad_item"),
    pytest.param(("--output_dir=/tmp/x", "--search=I2A=/does/not/exist"), "Cannot read the search results", id="missing")])
def test_user_mistakes_end_in_one_line(args, message):
  with pytest.raises(SystemExit) as info:
    _main(*args)
  assert isinstance(info.value.code, str) and "\n" not in info.value.code and message in info.value.code
