"""i2a/study: the graph's checks and order, flag files read as absl reads them, each binary's mark of
completion, and the dry-run plan's exact text."""
import json
import os

import pytest
import tensorflow as tf

from i2a.study import completion
from i2a.study import estimates
from i2a.study import flagfiles
from i2a.study import graph
from i2a.study import runner
from i2a.study import state
from i2a.training import checkpointing


def run(key, needs=(), hours=1.0, run_dir="d", done=None):
  return graph.Run(key, ("-m", "launch.train"), run_dir, done or completion.Marker(), needs=needs,
                   work=graph.Work(seconds=hours * 3600))


def test_a_study_refuses_repeated_unknown_and_circular_runs():
  with pytest.raises(graph.StudyError, match=r"runs declared twice: \['s/a'\]"):
    graph.Study("s", (run("s/a"), run("s/a")))
  with pytest.raises(graph.StudyError, match=r"s/a waits for runs that are not declared: \['s/x'\]"):
    graph.Study("s", (run("s/a", needs=("s/x",)),))
  with pytest.raises(graph.StudyError, match=r"wait for each other in a circle: \['s/a', 's/b'\]"):
    graph.Study("s", (run("s/a", needs=("s/b",)), run("s/b", needs=("s/a",))))


def test_order_and_dependants():
  study = graph.Study("s", (run("s/eval", needs=("s/agent",)), run("s/agent", needs=("s/model",)), run("s/model"),
                            run("s/other")))
  assert [r.key for r in study.order()] == ["s/model", "s/agent", "s/eval", "s/other"]
  assert study.dependants("s/model") == ["s/eval", "s/agent"] and study.dependants("s/other") == []
  assert study["s/eval"].name == "eval" and study["s/eval"].command == "python -m launch.train"


def test_stages_order_runs_and_are_declared():
  staged = lambda key, stage, needs=(): graph.Run(key, ("-m", "launch.train"), "d", completion.Marker(),
                                                    needs=needs, stage=stage)
  runs = (staged("s/late", 2), staged("s/upstream", 2), staged("s/early", 0, needs=("s/upstream",)),
          staged("s/middle", 1), graph.Run("other/base", ("-m", "launch.train"), "d", completion.Marker()))
  study = graph.Study("s", runs, stages=("first", "second", "third"))
  # Lowest stage first; a run waits for its upstream, which the runner moves up to the stage needing it.
  assert [r.key for r in study.order()] == ["other/base", "s/middle", "s/late", "s/upstream", "s/early"]
  order = runner.start_order(study, {key: 1.0 for key in study.keys})
  assert order["s/upstream"] == (0, -2.0) and order["s/late"] == (2, -1.0) and order["s/middle"] == (1, -1.0)
  assert study.is_own("s/late") and not study.is_own("other/base")
  with pytest.raises(graph.StudyError, match="s/late is in stage 2, which is not declared"):
    graph.Study("s", runs[:1], stages=("first",))


def test_work_hours():
  assert graph.Work(2_000_000, 500.0).hours == pytest.approx(2_000_000 / 500 / 3600)
  assert graph.Work(seconds=1800).hours == 0.5
  with pytest.raises(ValueError, match="frames and frames_per_sec together"):
    graph.Work(frames=10)


def test_flag_values_expand_nested_files_and_the_last_setting_wins(tmp_path, monkeypatch):
  monkeypatch.chdir(tmp_path)  # Nested flag files are named relative to the working directory, as in absl.
  (tmp_path / "common.flags").write_text("# Shared.\n--total_frames=2000000\n--seed=1\n\n--greedy\n")
  (tmp_path / "agent.flags").write_text("--flagfile=common.flags\n--agent=i2a\n--seed=7\n--noreuse_imagination\n")
  values = flagfiles.flag_values(["--flagfile=agent.flags", "--seed=3", "positional"])
  assert values == dict(total_frames="2000000", seed="3", greedy="true", agent="i2a", reuse_imagination="false")
  with pytest.raises(ValueError, match="Flag file missing.flags does not exist"):
    flagfiles.flag_values(["--flagfile=missing.flags"])
  (tmp_path / "loop.flags").write_text("--flagfile=loop.flags\n")
  with pytest.raises(ValueError, match="includes itself"):
    flagfiles.flag_values(["--flagfile=loop.flags"])
  with pytest.raises(ValueError, match="agent.flags sets no --logdir"):
    flagfiles.required(values, "logdir", "agent.flags")


def _checkpoint(logdir, step, frames):
  """A training checkpoint as launch.train writes it: the learner's `num_frames` among its objects."""
  checkpointer = checkpointing.Checkpointer(os.path.join(logdir, "checkpoints"), 3,
                                            num_frames=tf.Variable(frames, dtype=tf.int64),
                                            learner_step=tf.Variable(step, dtype=tf.int64))
  checkpointer.save(step)


def test_checkpoint_frames(tmp_path):
  done = completion.CheckpointFrames("run", 2_000)
  assert done.status(None, str(tmp_path)) == completion.Status(completion.PENDING)
  _checkpoint(tmp_path / "run", 10, 800)
  _checkpoint(tmp_path / "run", 15, 1_200)
  assert done.status(None, str(tmp_path)) == completion.Status(completion.PARTIAL, 0.6, "1,200/2,000 frames")
  continued = completion.CheckpointFrames("run", 2_000, from_frames=1_000)  # Only its own 200 of 1,000.
  assert continued.status(None, str(tmp_path)).fraction == pytest.approx(0.2)
  assert completion.CheckpointFrames("run", 1_000).status(None, str(tmp_path)).done
  (tmp_path / "run" / "checkpoints" / "ckpt-20.index").write_bytes(b"garbage")  # Unreadable: the one before.
  assert done.status(None, str(tmp_path)).detail == "1,200/2,000 frames"


def test_data_manifest_exported_model_and_evaluation_results(tmp_path):
  collect = completion.DataManifest("data", 250_000)
  assert collect.status(None, str(tmp_path)).state == completion.PENDING
  (tmp_path / "data").mkdir()
  (tmp_path / "data" / "manifest.json").write_text(json.dumps(dict(num_steps=126_976)))
  assert collect.status(None, str(tmp_path)).state == completion.PARTIAL
  (tmp_path / "data" / "manifest.json").write_text(json.dumps(dict(num_steps=253_952)))
  assert collect.status(None, str(tmp_path)) == completion.Status(completion.DONE, 1.0, "253,952/250,000 steps")

  model = completion.ExportedModel("model", 4_000)
  (tmp_path / "model" / "checkpoints").mkdir(parents=True)
  (tmp_path / "model" / "checkpoints" / "ckpt-3000.index").write_bytes(b"")
  assert model.status(None, str(tmp_path)) == completion.Status(completion.PARTIAL, 0.75, "3,000/4,000 updates")
  (tmp_path / "model" / "eval_metrics.json").write_text(json.dumps(dict(step=3_000, export=None)))  # Stopped.
  assert model.status(None, str(tmp_path)).state == completion.PARTIAL
  (tmp_path / "model" / "eval_metrics.json").write_text(json.dumps(dict(step=4_000, export="model/env_model")))
  assert model.status(None, str(tmp_path)).done

  evaluation = completion.EvalResults("eval", 2_000_000)
  assert evaluation.status(None, str(tmp_path)).state == completion.PENDING
  (tmp_path / "eval").mkdir()
  (tmp_path / "eval" / "results.json").write_text(json.dumps([dict(num_frames=1_320_560)] * 2))
  assert evaluation.status(None, str(tmp_path)) == completion.Status(
      completion.PENDING, 0.0, "redo: of the checkpoint at 1,320,560 frames")
  (tmp_path / "eval" / "results.json").write_text(json.dumps([dict(num_frames=2_000_000)] * 2))
  assert evaluation.status(None, str(tmp_path)).done


def test_a_marker_run_is_redone_when_a_run_it_waits_for_is_not_done(tmp_path):
  agent = run("s/agent", run_dir="agent", done=completion.ExportedModel("agent", 10))
  report = run("s/report", needs=("s/agent",), run_dir="report")
  study = graph.Study("s", (agent, report))
  completion.write_marker(str(tmp_path / "report"), report.command, 1.0)
  assert state.read_statuses(study, str(tmp_path))["s/report"] == completion.Status(
      completion.PENDING, 0.0, "redo: a run it waits for is not done")
  (tmp_path / "agent").mkdir()
  (tmp_path / "agent" / "eval_metrics.json").write_text(json.dumps(dict(step=10, export="x")))
  assert state.read_statuses(study, str(tmp_path))["s/report"].done


def test_the_plan(tmp_path):
  model = completion.ExportedModel("model", 4_000)
  runs = (run("toy/data", hours=0.5, run_dir="data", done=completion.DataManifest("data", 100)),
          run("toy/model", ("toy/data",), hours=2.0, run_dir="model", done=model),
          run("toy/i2a_s1", ("toy/model",), hours=1.0, run_dir="i2a"),
          run("toy/i2a_s1/eval", ("toy/i2a_s1",), hours=0.25, run_dir="eval"),
          run("toy/report", ("toy/data", "toy/model", "toy/i2a_s1", "toy/i2a_s1/eval"), hours=0.1, run_dir="r"))
  study = graph.Study("toy", runs)
  (tmp_path / "data").mkdir()
  (tmp_path / "data" / "manifest.json").write_text(json.dumps(dict(num_steps=100)))
  (tmp_path / "model" / "checkpoints").mkdir(parents=True)
  (tmp_path / "model" / "checkpoints" / "ckpt-1000.index").write_bytes(b"")
  assert estimates.plan_lines(study, state.read_statuses(study, str(tmp_path))) == [
      "Study toy: 5 runs (1 done, 1 partial, 3 pending).",
      "  toy/data         done       0.00 h  waits for nothing (100/100 steps)",
      "  toy/model        partial    1.50 h  waits for data (1,000/4,000 updates)",
      "  toy/i2a_s1       pending    1.00 h  waits for model",
      "  toy/i2a_s1/eval  pending    0.25 h  waits for i2a_s1",
      "  toy/report       pending    0.10 h  waits for 4 runs: data, model, i2a_s1, ...",
      "Machine-hours left: 2.85 h of 3.85 h for the whole study (measured speeds alone; see the study's "
      "declaration).",
  ]
  assert estimates.command_lines(study)[0] == "  toy/data: python -m launch.train"
