"""launch.report on tiny synthetic runs: the scalars a fake run writes come back as the exact points,
curves and table rows; runs group by seed suffix, stored config or --labels; bad --runs fail cleanly."""
import csv
import json
import os
import subprocess
import sys

from absl import app
import numpy as np
from PIL import Image
import pytest
import tensorflow as tf

from i2a.reporting import plots
from i2a.reporting import run_groups
from i2a.reporting import run_reader
from i2a.reporting import tables
from i2a.training import stored_config
from i2a.training import summaries
from launch import report

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Fake Sokoban runs: seed s logs at frames 1000 * i + 500 * s; the solve rate is linear in the frames
# (dyadic, so float32-exact), which linear interpolation between logged points reproduces exactly.
FRAMES = {s: [1000 * i + 500 * s for i in range(1, 9)] for s in (0, 1)}
RATE = {"i2a": lambda f, s: f / 16384 + s / 8, "standard": lambda f, s: f / 32768 + s / 16}


def _write_run(logdir: str, points: list[tuple[int, dict]]) -> None:
  writer = tf.summary.create_file_writer(logdir)
  for frames, scalars in points:
    summaries.write_scalars(writer, scalars, frames)
  writer.close()


def _write_eval(logdir: str, subdir: str, rows: list[dict]) -> None:
  os.makedirs(os.path.join(logdir, subdir), exist_ok=True)
  with open(os.path.join(logdir, subdir, "results.json"), "w") as f:
    json.dump(rows, f)


def _sokoban_eval(fraction: float, greedy: bool) -> dict:
  return dict(levels="generated", box_count=2, episodes=8, solved=int(8 * fraction), fraction_solved=fraction,
              learner_step=10, num_frames=8000, greedy=greedy)


@pytest.fixture(scope="module")
def runs_root(tmp_path_factory):
  """Two agents x two seeds (directories <agent>_s<seed>), with evaluation results for i2a."""
  root = str(tmp_path_factory.mktemp("runs"))
  for agent, rate in RATE.items():
    for seed, frames in FRAMES.items():
      _write_run(os.path.join(root, f"{agent}_s{seed}"),
                 [(f, {"solve_rate": rate(f, seed), "episode_return": 1.0, "frames_per_second": 9.0})
                  for f in frames])
  _write_eval(os.path.join(root, "i2a_s0"), "eval", [_sokoban_eval(0.875, True), _sokoban_eval(0.625, False)])
  _write_eval(os.path.join(root, "i2a_s1"), "eval_sampled", [_sokoban_eval(0.75, False)])
  os.makedirs(os.path.join(root, "not_a_run"))  # A glob of runs/ may catch other directories.
  return root


@pytest.fixture(scope="module")
def reported(runs_root, tmp_path_factory):
  """The output directory of `launch.report --runs=<root>/* --last_points=3`."""
  out = str(tmp_path_factory.mktemp("report"))
  from absl import flags  # pylint: disable=g-import-not-at-top
  flags.FLAGS.unparse_flags()
  flags.FLAGS(["report", f"--runs={runs_root}/*", f"--out={out}", "--last_points=3"])
  try:
    report.main(["report"])
  finally:
    flags.FLAGS.unparse_flags()
  return out


def _csv(path: str) -> list[dict]:
  with open(path) as f:
    return list(csv.DictReader(f))


def test_png_is_written(reported):
  with open(os.path.join(reported, "curves.png"), "rb") as f:
    assert f.read(8) == b"\x89PNG\r\n\x1a\n"
  with Image.open(os.path.join(reported, "curves.png")) as image:
    assert image.size == (600, 450)  # One panel: 6 x 4.5 inches at 100 dpi.


def test_points_csv_holds_every_logged_point(reported):
  rows = _csv(os.path.join(reported, "points.csv"))
  expected = [("", "solve_rate", agent, f"{agent}_s{seed}", str(seed), f, float(np.float32(rate(f, seed))))
              for agent, rate in RATE.items() for seed in (0, 1) for f in FRAMES[seed]]
  assert [(r["panel"], r["metric"], r["agent"], r["run"], r["seed"], int(r["frames"]), float(r["value"]))
          for r in rows] == expected
  assert all(r["smoothed"] == r["value"] for r in rows)  # --smoothing=1.


def test_curves_csv_is_mean_and_range_over_seeds_on_the_common_frames(reported):
  rows = _csv(os.path.join(reported, "curves.csv"))
  grid = list(range(1500, 8001, 500))  # Both seeds' frames within [1500, 8000], the range both cover.
  for agent, rate in RATE.items():
    mine = [r for r in rows if r["agent"] == agent]
    assert [int(r["frames"]) for r in mine] == grid and {r["runs"] for r in mine} == {"2"}
    for row, f in zip(mine, grid):
      low, high = rate(f, 0), rate(f, 1)
      np.testing.assert_allclose([float(row[k]) for k in ("mean", "std", "low", "high")],
                                 [(low + high) / 2, (high - low) / 2, low, high], rtol=1e-6)


def markdown_tables(text: str) -> list[list[dict]]:
  """Every Markdown table of `text`: per table, its rows as header -> cell."""
  found, block = [], []
  for line in text.splitlines() + [""]:
    if line.startswith("|"):
      block.append([c.strip() for c in line.strip("|").split("|")])
    elif block:
      found.append([dict(zip(block[0], cells)) for cells in block[2:]])
      block = []
  return found


def _table(reported: str) -> dict:
  """The first table of report.md (one row per agent), by agent."""
  with open(os.path.join(reported, "report.md")) as f:
    return {row["Agent"]: row for row in markdown_tables(f.read())[0]}


def test_markdown_has_a_row_per_agent_with_final_values_and_evaluations(reported):
  rows = _table(reported)
  assert list(rows) == ["i2a", "standard"]  # Grouped by the _s<n> suffix; not_a_run is skipped.
  for agent, rate in RATE.items():
    row = rows[agent]
    finals = [np.mean([np.float32(rate(f, s)) for f in FRAMES[s][-3:]]) for s in (0, 1)]
    assert row["Final solve_rate"] == f"{np.mean(finals):.3f} [{min(finals):.3f}, {max(finals):.3f}]"
    assert (row["Runs"], row["Seeds"], row["Frames"]) == ("2", "0, 1", "8,000-8,500")
    # Both seeds read at 8,000 frames, the shortest run's end; seed 1 interpolated between 7,500 and 8,500.
    at_equal = [rate(8000, s) for s in (0, 1)]
    assert row["solve_rate at 8,000 frames"] == (
        f"{np.mean(at_equal):.3f} [{min(at_equal):.3f}, {max(at_equal):.3f}]")
    assert row["Wall time per run (h)"] == "0.00 [0.00, 0.00]"
  assert rows["i2a"]["Eval greedy, 2 boxes"] == "0.875 (1 of 2 runs)"
  assert rows["i2a"]["Eval sampled, 2 boxes"] == "0.688 [0.625, 0.750]"
  assert rows["standard"]["Eval greedy, 2 boxes"] == rows["standard"]["Eval sampled, 2 boxes"] == "-"


def test_smoothing_is_a_trailing_moving_average():
  values = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0])
  expected = [np.mean(values[max(0, i - 2):i + 1]) for i in range(len(values))]
  np.testing.assert_allclose(tables.smooth(values, 3), expected)
  np.testing.assert_array_equal(tables.smooth(values, 1), values)


@pytest.mark.parametrize("name,expected", [
    ("i2a_s3", ("i2a", 3)), ("i2a-seed12", ("i2a", 12)), ("sokoban_i2a_depth5_s0", ("sokoban_i2a_depth5", 0)),
    ("sokoban_i2a_depth5", ("sokoban_i2a_depth5", None)), ("s0", ("s0", None)), ("runs5", ("runs5", None))])
def test_seed_suffix_is_removed_from_directory_names(name, expected):
  assert run_groups.name_label(name) == expected


def _event(wall_time: float, step: int, tag: str, value: float) -> bytes:
  summary = tf.compat.v1.Summary(value=[tf.compat.v1.Summary.Value(tag=tag, simple_value=value)])
  return tf.compat.v1.Event(wall_time=wall_time, step=step, summary=summary).SerializeToString()


def test_resumed_run_replaces_rewound_points_and_sums_its_segments_wall_time(tmp_path):
  """A run checkpointed at 2000 frames, logged up to 3000, stopped, then resumed from 2000."""
  for name, events in (("events.out.tfevents.1.a", [(100, 1000, 0.25), (110, 2000, 0.5), (130, 3000, 0.75)]),
                       ("events.out.tfevents.2.b", [(500, 2500, 1.0), (520, 3500, 1.5)])):
    with tf.io.TFRecordWriter(str(tmp_path / name)) as writer:
      for wall, step, value in events:
        writer.write(_event(wall, step, "episode_return", value))
  scalars, wall_seconds = run_reader.read_scalars(str(tmp_path))
  np.testing.assert_array_equal(scalars["episode_return"][0], [1000, 2000, 2500, 3500])
  np.testing.assert_array_equal(scalars["episode_return"][1], [0.25, 0.5, 1.0, 1.5])
  assert wall_seconds == 30 + 20


def _config(variant: str, seed: int, **agent) -> dict:
  return {"agent": dict(game="sokoban", variant=variant, **agent), "logdir": "x", "seed": seed,
          "env": {"game": "sokoban", "room_size": 7, "num_boxes": 2}, "learner": {"learning_rate": 1e-3}}


def test_stored_config_and_labels_group_runs(tmp_path):
  configs = {"a": _config("i2a", 4, rollout_depth=3, predict_reward=False), "b": _config("i2a", 5, rollout_depth=3,
             predict_reward=False), "c": _config("standard", 4), "d": None}
  configs["b"]["learner"]["learning_rate"] = 5e-4
  for name, config in configs.items():
    _write_run(str(tmp_path / name), [(10, {"solve_rate": 0.5})])
    if config:
      (tmp_path / name / "config.json").write_text(json.dumps(config))
  runs = run_groups.load_runs([str(tmp_path / "*")], run_groups.parse_labels(["baseline=*/c"]))
  assert [(r.agent, r.panel, r.seed) for r in runs] == [
      ("i2a depth3 no reward", "sokoban 7x7, 2 boxes", 4), ("i2a depth3 no reward", "sokoban 7x7, 2 boxes", 5),
      ("baseline", "sokoban 7x7, 2 boxes", 4), ("d", "", None)]
  curves, notes = tables.build_curves(runs)
  assert [(c.panel, c.agent, len(c.runs)) for c in curves] == [
      ("sokoban 7x7, 2 boxes", "i2a depth3 no reward", 2), ("sokoban 7x7, 2 boxes", "baseline", 1), ("", "d", 1)]
  assert notes == ["i2a depth3 no reward: its runs differ in learner.learning_rate (not only the seed); "
                   "use --labels to separate them."]
  plots.plot_curves(curves, str(tmp_path / "two_panels.png"))
  with Image.open(tmp_path / "two_panels.png") as image:
    assert image.size == (1200, 450)  # One 6-inch panel per game setting, side by side.


def test_a_setting_a_run_predates_counts_at_its_default(tmp_path):
  """A run stored before `inference` existed used the actor's inference, today's default: it groups with a
  run that stores inference 'actor' without a note, and apart from one that stores 'central' with one."""
  old, same, other = (_config("standard", seed, room_size=7) for seed in (1, 2, 3))
  same["inference"], other["inference"] = "actor", "central"
  for name, config in (("old", old), ("same", same), ("other", other)):
    _write_run(str(tmp_path / name), [(10, {"solve_rate": 0.5})])
    (tmp_path / name / "config.json").write_text(json.dumps(config))
  assert "inference" not in json.loads((tmp_path / "old" / "config.json").read_text())
  load = lambda names, complete=stored_config.completed: run_groups.load_runs(
      [str(tmp_path / n) for n in names], complete_config=complete)
  assert load(["old"])[0].config["inference"] == "actor"
  _, notes = tables.build_curves(load(["old", "same"]))
  assert notes == []
  _, notes = tables.build_curves(load(["old", "same"], complete=None))  # As stored: 'inference' differs.
  assert notes == ["standard: its runs differ in inference (not only the seed); use --labels to separate them."]
  _, notes = tables.build_curves(load(["old", "same", "other"]))
  assert notes == ["standard: its runs differ in inference (not only the seed); use --labels to separate them."]


def test_config_label_reads_the_room_from_old_and_new_configs():
  old = {"agent": {"variant": "i2a", "game": "sokoban"}, "env": {"game": "sokoban", "room_size": 6, "num_boxes": 1}}
  new = {"agent": {"variant": "i2a", "game": "sokoban", "room_size": 6}, "env": {"num_boxes": 1}}
  assert run_groups.config_label(old) == run_groups.config_label(new) == ("i2a depth5", "sokoban 6x6, 1 box")


def test_minipacman_runs_draw_the_return(tmp_path):
  _write_run(str(tmp_path / "hunt_s0"), [(100, {"episode_return": 2.0}), (200, {"episode_return": 4.0})])
  curves, _ = tables.build_curves(run_groups.load_runs([str(tmp_path / "hunt_s0")]))
  assert [(c.metric, c.agent, list(c.frames), list(c.mean)) for c in curves] == [
      ("episode_return", "hunt", [100, 200], [2.0, 4.0])]


@pytest.mark.parametrize("runs,message", [
    ("{root}/nowhere", "matches no directory"),
    ("{root}/not_a_run", "has neither TensorBoard event files"),
    ("{root}/not_*", "none of these directories has TensorBoard event files")])
def test_bad_runs_are_usage_errors(runs_root, tmp_path, parse_flags, runs, message):
  parse_flags(report, f"--runs={runs.format(root=runs_root)}", f"--out={tmp_path}")
  with pytest.raises(app.UsageError, match=message):
    report.main(["report"])


@pytest.mark.parametrize("flag,message", [
    ("--compare_to=a2c", "--compare_to=a2c: no agent is called so; choose one of: i2a, standard."),
    ("--frames_to=half", "--frames_to=half: give solve rates such as 0.5,0.9."),
    ("--frames_to=0.5,1.5", r"--frames_to=0.5,1.5: each solve rate must be in \(0, 1\]."),
    ("--export_run=x", "--export_run and --runs exclude each other")])
def test_bad_statistics_flags_are_usage_errors(runs_root, tmp_path, parse_flags, flag, message):
  parse_flags(report, f"--runs={runs_root}/*", f"--out={tmp_path}", flag)
  with pytest.raises(app.UsageError, match=message):
    report.main(["report"])
  assert not os.listdir(tmp_path)  # Nothing written.


def test_bad_runs_exit_with_one_line_and_no_traceback(runs_root, tmp_path):
  result = subprocess.run([sys.executable, "-m", "launch.report", f"--runs={runs_root}/not_a_run",
                           f"--out={tmp_path}"], cwd=REPO, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
  assert result.returncode != 0
  assert "Traceback" not in result.stderr
  assert result.stderr.strip().splitlines()[-1] == (
      f"{runs_root}/not_a_run has neither TensorBoard event files (events.out.tfevents.*) nor a run summary "
      "(summary.json); pass launch.train logdirs or exported summaries to --runs.")
  assert not os.listdir(tmp_path)  # Nothing written.
