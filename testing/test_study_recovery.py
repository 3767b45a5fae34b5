"""i2a/study/state.py: a study whose run directories were lost with a machine finds its finished runs
in their exported summaries (results/), redoes only what a run still to do reads, warns when it would
rebuild a model that exported runs were made from, and exports borrowed runs where their own study's
report reads them."""
import json
import os

from i2a.study import ablation_runs
from i2a.study import ablations
from i2a.study import completion
from i2a.study import execute
from i2a.study import graph
from i2a.study import runner
from i2a.study import state
from i2a.study import studies

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SUMMARIES = "results/toy/runs"


def _export(root, name, frames, evals=()):
  """A run summary as run_summary.export_run_summary writes one: marker, scalars, evaluations."""
  path = os.path.join(root, SUMMARIES, name)
  os.makedirs(path)
  with open(os.path.join(path, "summary.json"), "w") as f:
    json.dump(dict(format="i2a run summary", version=1, run=name), f)
  with open(os.path.join(path, "scalars.csv"), "w") as f:
    f.write("tag,frames,value\n" + "".join(f"solve_rate,{n},0.5\n" for n in (frames // 2, frames)))
  for mode, num_frames in evals:
    os.makedirs(os.path.join(path, f"eval_{mode}"))
    with open(os.path.join(path, f"eval_{mode}", "results.json"), "w") as f:
      json.dump([dict(num_frames=num_frames, solved=1)], f)


def _toy_study():
  """data -> model -> agent a, b (each with one evaluation) -> report, as the Sokoban study's shape."""
  def agent(name):
    logdir = f"runs/{name}"
    return (graph.Run(f"toy/{name}", ("-m", "launch.train", name), logdir, completion.CheckpointFrames(logdir, 1_000),
                      needs=("toy/model",), summary_dir=logdir, summaries_dir=SUMMARIES),
            graph.Run(f"toy/{name}/eval_sampled", ("-m", "launch.evaluate", name), f"{logdir}/eval_sampled",
                      completion.EvalResults(f"{logdir}/eval_sampled", 1_000), needs=(f"toy/{name}",),
                      summary_dir=logdir, summaries_dir=SUMMARIES))
  runs = (graph.Run("toy/data", ("-m", "launch.collect"), "data", completion.DataManifest("data", 10)),
          graph.Run("toy/model", ("-m", "launch.train_env_model"), "runs/model", completion.ExportedModel("runs/model", 5),
                    needs=("toy/data",)),
          *agent("a"), *agent("b"),
          graph.Run("toy/report", ("-m", "launch.report"), "runs/report", completion.Marker(),
                    needs=("toy/a", "toy/a/eval_sampled", "toy/b", "toy/b/eval_sampled")))
  return graph.Study("toy", runs, report_dir="toy")


def _restore_model(root):
  os.makedirs(os.path.join(root, "runs/model"))
  with open(os.path.join(root, "runs/model/eval_metrics.json"), "w") as f:
    json.dump(dict(export="runs/model/env_model", step=5), f)


def test_with_every_agent_exported_only_the_report_is_left(tmp_path):
  root = str(tmp_path)
  for name in ("a", "b"):
    _export(root, name, 1_000, [("sampled", 1_000)])
  found = state.read_statuses(_toy_study(), root)
  assert {key for key, status in found.items() if not status.done} == {"toy/report"}
  assert found["toy/a"] == completion.Status(completion.DONE, 1.0, "1,000 frames, exported", exported=True)
  assert found["toy/b/eval_sampled"].exported and found["toy/b/eval_sampled"].done
  assert found["toy/model"] == found["toy/data"] == completion.Status(completion.DONE, 1.0, state.NOT_NEEDED)
  assert state.notes(_toy_study(), found) == []
  tracker = runner.Tracker(_toy_study(), root, "results", exporter=lambda *_: "", print_line=lambda _: None)
  assert tracker.to_run == ["toy/report"]


def test_a_run_still_to_do_makes_the_model_needed_and_warns_that_exported_runs_used_the_old_one(tmp_path):
  root = str(tmp_path)
  _export(root, "a", 1_000, [("sampled", 1_000)])
  _export(root, "b", 600)  # Lost mid-run: the export of an earlier finish never happened.
  found = state.read_statuses(_toy_study(), root)
  assert found["toy/a"].exported and found["toy/a/eval_sampled"].exported
  assert [k for k in _toy_study().keys if not found[k].done] == [
      "toy/data", "toy/model", "toy/b", "toy/b/eval_sampled", "toy/report"]
  assert state.notes(_toy_study(), found) == [
      "Note: toy/model will be rebuilt, but the runs found done in their exported summaries (a) waited for "
      "the one before: restore it into runs/model first, or the new runs will not share their configuration."]
  _restore_model(root)  # As the README says: the shipped model put back where the study reads it.
  found = state.read_statuses(_toy_study(), root)
  assert [k for k in _toy_study().keys if not found[k].done] == ["toy/b", "toy/b/eval_sampled", "toy/report"]
  assert found["toy/data"].detail == state.NOT_NEEDED and state.notes(_toy_study(), found) == []


def test_an_exported_run_whose_evaluation_is_missing_is_redone(tmp_path):
  root = str(tmp_path)
  _restore_model(root)
  _export(root, "a", 1_000, [("sampled", 900)])  # Evaluated before its final checkpoint: redone.
  _export(root, "b", 1_000, [("sampled", 1_000)])
  found = state.read_statuses(_toy_study(), root)
  assert [k for k in _toy_study().keys if not found[k].done] == ["toy/a", "toy/a/eval_sampled", "toy/report"]
  assert found["toy/a"] == completion.Status(completion.PENDING)  # Its own files: none.
  assert found["toy/b"].exported


def test_borrowed_runs_export_to_their_own_study(tmp_path):
  written = []
  base = graph.Run("base/a", ("-m", "launch.train"), "runs/a", completion.Marker(), summary_dir="runs/a",
                   summaries_dir="results/base/runs")
  own = graph.Run("abl/x", ("-m", "launch.train"), "runs/x", completion.Marker(), summary_dir="runs/x")
  tracker = runner.Tracker(graph.Study("abl", (base, own), report_dir="abl"), str(tmp_path), "results",
                           exporter=lambda run_dir, out: written.append(os.path.relpath(out, tmp_path)) or out,
                           print_line=lambda _: None)
  for key in ("base/a", "abl/x"):
    tracker.ended(execute.Outcome(key, 0, completion.Status(completion.DONE, 1.0)))
  assert written == ["results/base/runs", "results/abl/runs"]


def test_the_studies_export_where_their_reports_read():
  base = studies.build("sokoban_small", seeds=2)
  i2a = base["sokoban_small/i2a_s2"]
  assert i2a.summary_path == "results/sokoban_small/runs/study_sokoban_small_i2a_s2"
  assert base["sokoban_small/i2a_s2/eval_greedy"].summary_path == i2a.summary_path
  assert f"results/sokoban_small/runs/study_sokoban_small_standard_s1," in base["sokoban_small/report"].command
  abl = ablation_runs.build(ablations.SOKOBAN_SMALL_ABLATIONS, seeds=1)
  assert abl["sokoban_small/i2a_s1"].summaries_dir == "results/sokoban_small/runs"  # Borrowed: the base's.
  arm = abl["sokoban_small_ablations/i2a_d1_s1"]
  assert arm.summary_path == "results/sokoban_small_ablations/runs/study_sokoban_small_ablations_i2a_d1_s1"
  depth = abl["sokoban_small_ablations/depth/report"].command
  assert arm.summary_path in depth and "--band=bootstrap" in depth
  compare_to = ablations.SOKOBAN_SMALL_ABLATIONS.experiments["depth"].compare_to
  # Last, after the base study's --compare_to=i2a: absl takes the last value.
  assert abl["sokoban_small_ablations/depth/report"].args[-1] == f"--compare_to={compare_to}"


def test_the_committed_results_count_as_done_with_no_runs_directory(tmp_path):
  """The repository's own exported study runs: each one and its evaluations are done from results/."""
  os.symlink(os.path.join(REPO, "results"), tmp_path / "results")
  study = studies.build("sokoban_small", seeds=5)
  found = state.read_statuses(study, str(tmp_path))
  exported = sorted(os.listdir(os.path.join(REPO, "results/sokoban_small/runs")))
  assert len(exported) >= 16
  for name in exported:
    key = "sokoban_small/" + name[len("study_sokoban_small_"):]
    for k in (key, f"{key}/eval_sampled", f"{key}/eval_greedy"):
      assert found[k].done and found[k].exported, (k, found[k])
