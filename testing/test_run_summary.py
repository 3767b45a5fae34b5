"""Run summaries (issue 20, "results survive machines"): export_run_summary writes a logdir's scalars,
config and evaluations without its checkpoints; loading the summary gives the same runs as loading the
logdir, and launch.report rebuilds the same files from summaries alone, with the logdirs gone."""
import csv
import json
import os
import re
import shutil
import subprocess
import sys

from absl import app
from absl import flags
import numpy as np
from PIL import Image
import pytest
import tensorflow as tf

from i2a.reporting import run_groups
from i2a.reporting import run_reader
from i2a.reporting import run_summary
from i2a.reporting import seed_stats
from i2a.training import summaries
from launch import report

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AGENTS = {"i2a": 1 / 8192, "standard": 1 / 32768}  # Solve rate per frame (dyadic: float32-exact).
SOLVED = {"i2a": 480, "standard": 150}  # Of 500 new levels, sampled, plus 5 per seed.


def _config(variant: str, seed: int) -> dict:
  return {"agent": {"game": "sokoban", "variant": variant}, "seed": seed, "logdir": "x",
          "env": {"game": "sokoban", "room_size": 6, "num_boxes": 1}}


def _eval_rows(solved: int, played: int, greedy: bool, num_frames: int) -> list[dict]:
  return [dict(levels="generated", box_count=1, episodes=played, solved=solved, fraction_solved=solved / played,
               num_frames=num_frames, greedy=greedy)]


def _write_json(path: str, value) -> None:
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(path, "w") as f:
    json.dump(value, f)


def _make_run(root: str, agent: str, seed: int) -> str:
  """A logdir of 3 seeds' kind: two event files (a resumed run), a config, evaluations, a checkpoint."""
  logdir = os.path.join(root, f"{agent}_s{seed}")
  for segment, frames in enumerate((range(1000, 5001, 1000), range(5000, 9001, 500))):
    writer = tf.summary.create_file_writer(logdir, filename_suffix=f".{segment}")
    for f in frames:
      summaries.write_scalars(writer, {"solve_rate": min(1.0, AGENTS[agent] * f + seed / 64),
                                       "episode_return": f / 1024, "frames_per_second": 100.0 + seed}, f)
    writer.close()
  _write_json(os.path.join(logdir, "config.json"), _config(agent, seed))
  _write_json(os.path.join(logdir, "eval_sampled", "results.json"), _eval_rows(SOLVED[agent] + 5 * seed, 500, False, 9000))
  _write_json(os.path.join(logdir, "eval", "greedy", "results.json"), _eval_rows(300 + seed, 500, True, 9000))
  os.makedirs(os.path.join(logdir, "checkpoints"))
  with open(os.path.join(logdir, "checkpoints", "ckpt-1.data-00000-of-00001"), "wb") as f:
    f.write(b"\0" * 1024)
  return logdir


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
  """(logdirs, summaries root): 2 agents x 3 seeds, each exported."""
  root = str(tmp_path_factory.mktemp("runs"))
  out = str(tmp_path_factory.mktemp("results"))
  logdirs = [_make_run(root, agent, seed) for agent in AGENTS for seed in (1, 2, 3)]
  for logdir in logdirs:
    assert run_summary.export_run_summary(logdir, out) == os.path.join(out, os.path.basename(logdir))
  return logdirs, out


def test_summary_holds_scalars_config_and_evaluations_but_no_checkpoint(exported):
  logdirs, out = exported
  summary = os.path.join(out, "i2a_s1")
  files = sorted(os.path.relpath(os.path.join(d, n), summary) for d, _, names in os.walk(summary) for n in names)
  assert files == ["config.json", "eval/greedy/results.json", "eval_sampled/results.json", "scalars.csv",
                   "summary.json"]
  with open(os.path.join(summary, "summary.json")) as f:
    marker = json.load(f)
  assert (marker["format"], marker["version"], marker["run"]) == ("i2a run summary", 1, "i2a_s1")
  assert marker["tags"] == ["episode_return", "frames_per_second", "solve_rate"]
  with open(os.path.join(summary, "config.json")) as f, open(os.path.join(logdirs[0], "config.json")) as g:
    assert f.read() == g.read()
  with open(os.path.join(summary, "scalars.csv")) as f:
    rows = list(csv.DictReader(f))
  assert len(rows) == 3 * (4 + 9)  # Each tag: 1000..4000 of the first segment, then 5000..9000 by 500.
  assert sum(os.path.getsize(os.path.join(summary, n)) for n in files) < 20_000


def test_loading_a_summary_gives_the_same_run_as_its_logdir(exported):
  logdirs, out = exported
  from_logdirs = run_groups.load_runs(logdirs)
  from_summaries = run_groups.load_runs([os.path.join(out, "*")])
  assert [r.name for r in from_logdirs] == [r.name for r in from_summaries]
  for a, b in zip(from_logdirs, from_summaries):
    assert (a.agent, a.panel, a.seed, a.config) == (b.agent, b.panel, b.seed, b.config)
    assert (a.evaluations, a.evaluation_counts) == (b.evaluations, b.evaluation_counts)
    assert a.wall_seconds == b.wall_seconds
    assert sorted(a.scalars) == sorted(b.scalars)
    for tag, (frames, values) in a.scalars.items():
      np.testing.assert_array_equal(frames, b.scalars[tag][0])
      np.testing.assert_array_equal(values, b.scalars[tag][1])  # Bit-exact float64.
  assert from_summaries[0].evaluation_counts == {"greedy, 1 boxes": (301, 500), "sampled, 1 boxes": (485, 500)}


def _report(runs: str, out: str) -> None:
  flags.FLAGS.unparse_flags()
  flags.FLAGS(["report", f"--runs={runs}", f"--out={out}", "--last_points=3", "--smoothing=2", "--band=bootstrap",
               "--compare_to=i2a", "--bootstrap_resamples=500"])
  try:
    report.main(["report"])
  finally:
    flags.FLAGS.unparse_flags()


def test_report_is_rebuilt_from_summaries_alone(exported, tmp_path):
  logdirs, out = exported
  _report(",".join(logdirs), str(tmp_path / "from_logdirs"))
  moved = str(tmp_path / "logdirs_gone")
  os.makedirs(moved)
  for logdir in logdirs:
    shutil.move(logdir, moved)  # No runs/ and no event files left where the summaries were written from.
  try:
    _report(os.path.join(out, "*"), str(tmp_path / "from_summaries"))
  finally:
    for logdir in logdirs:
      shutil.move(os.path.join(moved, os.path.basename(logdir)), logdir)
  for name in ("points.csv", "curves.csv", "stats.csv", "report.md"):
    with open(tmp_path / "from_logdirs" / name) as f, open(tmp_path / "from_summaries" / name) as g:
      assert f.read() == g.read(), name
  with Image.open(tmp_path / "from_logdirs" / "curves.png") as a, Image.open(tmp_path / "from_summaries" /
                                                                            "curves.png") as b:
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
  with open(tmp_path / "from_summaries" / "report.md") as f:
    text = f.read()
  with open(tmp_path / "from_summaries" / "stats.csv") as f:
    sampled = {r["statistic"]: r for r in csv.DictReader(f)
               if (r["agent"], r["quantity"], r["versus"]) == ("i2a depth5", "eval sampled, 1 boxes", "")}
  assert float(sampled["iqm"]["value"]) == pytest.approx(0.98)  # Seeds at 0.97, 0.98 and 0.99.
  assert 0.97 <= float(sampled["iqm"]["low"]) < 0.98 < float(sampled["iqm"]["high"]) <= 0.99
  assert "| i2a depth5 | eval sampled, 1 boxes | 3 | 0.980 [0.97" in text
  low, high = seed_stats.wilson_interval(1470, 1500)  # Of the levels pooled over the three seeds.
  assert f"| 1470/1500 = 0.980 [{low:.3f}, {high:.3f}] |" in text
  # P(i2a > standard): 1 on everything but greedy play, which the two agents share (0.5, an interval
  # around it that depends on the resampling).
  assert re.search(r"\| standard \| 1\.00 \[1\.00, 1\.00\] \| 0\.50 \[0\.\d\d, 0\.\d\d\] \| 1\.00 \[1\.00, 1\.00\] \|",
                   text)


def test_equal_evaluations_keep_their_order_after_a_clone(tmp_path):
  """Two results files at equal frames: the newer wins, in the logdir and in a summary whose files a
  clone gave other modification times."""
  logdir = _make_run(str(tmp_path), "i2a", 1)
  os.utime(os.path.join(logdir, "eval_sampled", "results.json"), (1e9, 1e9))
  _write_json(os.path.join(logdir, "eval_again", "results.json"), _eval_rows(250, 500, False, 9000))
  summary = run_summary.export_run_summary(logdir, str(tmp_path / "results"))
  os.utime(os.path.join(summary, "eval_sampled", "results.json"), (2e9, 2e9))  # Newer after the "clone".
  for path in (logdir, summary):
    assert run_reader.read_evaluations(path)[0]["sampled, 1 boxes"] == 0.5


def test_a_second_export_replaces_the_first(tmp_path):
  logdir = _make_run(str(tmp_path), "standard", 2)
  out = str(tmp_path / "results")
  summary = run_summary.export_run_summary(logdir, out)
  with open(os.path.join(summary, "stale.txt"), "w") as f:
    f.write("from an older export")
  shutil.rmtree(os.path.join(logdir, "eval"))
  assert run_summary.export_run_summary(logdir, out) == summary
  assert sorted(os.listdir(summary)) == ["config.json", "eval_sampled", "scalars.csv", "summary.json"]
  assert sorted(os.listdir(out)) == ["standard_s2"]  # No staging directory left behind.


def test_export_refuses_bad_runs_and_targets(tmp_path):
  logdir = _make_run(str(tmp_path), "i2a", 3)
  os.makedirs(tmp_path / "results" / "i2a_s3")
  with pytest.raises(run_groups.ReportError, match="exists and is not a run summary"):
    run_summary.export_run_summary(logdir, str(tmp_path / "results"))
  with pytest.raises(run_groups.ReportError, match="has neither TensorBoard event files"):
    run_summary.export_run_summary(str(tmp_path / "results"), str(tmp_path / "elsewhere"))
  with pytest.raises(run_groups.ReportError, match="no such directory"):
    run_summary.export_run_summary(str(tmp_path / "nowhere"), str(tmp_path / "elsewhere"))
  summary = run_summary.export_run_summary(logdir, str(tmp_path / "other"))
  _write_json(os.path.join(summary, "summary.json"), {"format": "i2a run summary", "version": 99})
  with pytest.raises(run_groups.ReportError, match="summary version 99, this reader knows up to 1"):
    run_groups.load_runs([summary])


def test_export_flag(tmp_path, parse_flags):
  logdir = _make_run(str(tmp_path), "i2a", 2)
  parse_flags(report, f"--export_run={logdir}", f"--out={tmp_path / 'results'}")
  report.main(["report"])
  assert run_reader.is_summary(str(tmp_path / "results" / "i2a_s2"))
  parse_flags(report, f"--export_run={logdir}", f"--runs={logdir}", f"--out={tmp_path / 'results'}")
  with pytest.raises(app.UsageError, match="exclude each other"):
    report.main(["report"])


def test_export_of_a_missing_run_exits_with_one_line(tmp_path):
  result = subprocess.run([sys.executable, "-m", "launch.report", f"--export_run={tmp_path}/nowhere",
                           f"--out={tmp_path}/results"], cwd=REPO, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
  assert result.returncode != 0 and "Traceback" not in result.stderr
  assert result.stderr.strip().splitlines()[-1] == (
      f"--export_run={tmp_path}/nowhere: no such directory; pass a launch.train logdir.")
  assert not os.path.exists(tmp_path / "results")
