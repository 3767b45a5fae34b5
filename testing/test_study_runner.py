"""i2a/study/runner.py on a fake study whose runs are a tiny script (testing/study_fakes.py): finished
runs are skipped, a partial run resumes, a failure stops only the runs that wait for it, and --jobs=2 runs
two runs side by side.
"""
import dataclasses
import os

import pytest

from i2a.study import completion
from i2a.study import graph
from i2a.study import runner
from testing import study_fakes
from testing.study_fakes import StepsDone, fake_run, times


@pytest.fixture
def stage(tmp_path):
  return study_fakes.write_stage(tmp_path)


class Recorder:
  """Collects progress lines and exported run directories."""

  def __init__(self):
    self.lines, self.exported = [], []

  def export(self, run_dir: str, out_dir: str) -> str:
    self.exported.append(os.path.basename(run_dir))
    return os.path.join(out_dir, os.path.basename(run_dir))

  def events(self) -> list[str]:
    """'start toy/a', 'done toy/a', ...: each line's event and run, without times and hours."""
    return [" ".join(line.split()[1:3]).rstrip(":") for line in self.lines if line.startswith("[")]


def run_study(runs, root, jobs: int = 1, recorder: Recorder = None):
  recorder = recorder or Recorder()
  tracker = runner.Tracker(graph.Study("toy", tuple(runs), report_dir="toy"), os.getcwd(), str(root / "results"),
                           exporter=recorder.export, print_line=recorder.lines.append)
  return runner.run_local(tracker, jobs), recorder


def test_runs_in_dependency_order_then_skips_what_is_done(stage, tmp_path):
  runs = [fake_run(stage, tmp_path, "model", needs=("data",)), fake_run(stage, tmp_path, "data"),
          fake_run(stage, tmp_path, "agent", needs=("model",))]
  code, recorder = run_study(runs, tmp_path)
  assert code == 0
  assert [e for e in recorder.events() if e.startswith(("start", "done"))] == [
      "start toy/data", "done toy/data", "start toy/model", "done toy/model", "start toy/agent", "done toy/agent"]
  assert recorder.exported == ["data", "model", "agent"]
  assert "3.00 h left" in recorder.lines[0] and "0.00 h left" in recorder.lines[-1]
  code, again = run_study(runs, tmp_path)
  assert code == 0 and again.events() == ["Study toy", "Study toy"] and again.exported == []
  assert "3 runs, 3 already done, 0 to run" in again.lines[0]
  assert all(len(times(tmp_path, n)) == 2 for n in ("data", "model", "agent"))  # Each ran once.


def test_a_partial_run_resumes_and_completes(stage, tmp_path):
  (tmp_path / "data").mkdir()
  (tmp_path / "data" / "steps").write_text("2")  # Left by an interrupted run.
  runs = [fake_run(stage, tmp_path, "data", steps=5), fake_run(stage, tmp_path, "agent", needs=("data",))]
  tracker = runner.Tracker(graph.Study("toy", tuple(runs)), os.getcwd(), str(tmp_path), exporter=Recorder().export,
                           print_line=lambda line: None)
  assert tracker.statuses["toy/data"] == completion.Status(completion.PARTIAL, 0.4, "2/5 steps")
  assert tracker.left["toy/data"] == pytest.approx(0.6)  # The part not done, of 1 hour.
  code, recorder = run_study(runs, tmp_path)
  assert code == 0 and (tmp_path / "data" / "steps").read_text() == "5"
  assert "resuming at step 2" in (tmp_path / "data" / graph.LOG_FILE).read_text()
  assert [e for e in recorder.events() if e.startswith(("start", "done"))] == [
      "start toy/data", "done toy/data", "start toy/agent", "done toy/agent"]


def test_a_run_stopped_early_with_exit_status_0_is_not_done_and_resumes_on_the_next_run(stage, tmp_path):
  stopping = fake_run(stage, tmp_path, "data", steps=4, stop_after=1)
  code, recorder = run_study([stopping, fake_run(stage, tmp_path, "agent", needs=("data",))], tmp_path)
  assert code == 1
  failed = next(line for line in recorder.lines if "FAILED" in line)
  assert "toy/data after 0:00:0" in failed
  assert "exited 0 but is not done (partial: 1/4 steps); rerun to resume" in failed
  assert recorder.lines[recorder.lines.index(failed) + 2] == "    | stopped early, like a SIGTERM"
  assert "skip toy/agent" in recorder.events() and not times(tmp_path, "agent")
  resumed = dataclasses.replace(stopping, args=tuple(a for a in stopping.args if not a.startswith("--stop_after")))
  code, _ = run_study([resumed, fake_run(stage, tmp_path, "agent", needs=("data",))], tmp_path)
  assert code == 0 and (tmp_path / "data" / "steps").read_text() == "4"


def test_a_failure_skips_its_dependants_and_the_other_runs_go_on(stage, tmp_path):
  runs = [fake_run(stage, tmp_path, "data"), fake_run(stage, tmp_path, "model", needs=("data",), fail=True),
          fake_run(stage, tmp_path, "i2a", needs=("model",)), fake_run(stage, tmp_path, "i2a_eval", needs=("i2a",)),
          fake_run(stage, tmp_path, "standard"), fake_run(stage, tmp_path, "standard_eval", needs=("standard",))]
  code, recorder = run_study(runs, tmp_path)
  assert code == 1
  events = recorder.events()
  assert {"done toy/data", "done toy/standard", "done toy/standard_eval", "FAILED toy/model",
          "skip toy/i2a", "skip toy/i2a_eval"} <= set(events)
  assert not any(e in events for e in ("start toy/i2a", "start toy/i2a_eval"))
  failed = recorder.lines.index(next(line for line in recorder.lines if "FAILED" in line))
  log = os.path.join(str(tmp_path), "model", graph.LOG_FILE)
  # The longest chain goes first: data, then model; when model fails, standard and its evaluation are left.
  assert recorder.lines[failed].endswith(f"exit status 3; 2.00 h left; last lines of {log}:")
  assert recorder.lines[failed + 1] == "    | boom: failing as asked"
  skip = next(line for line in recorder.lines if "skip    toy/i2a:" in line)
  assert skip.endswith("skip    toy/i2a: waits for toy/model, which did not finish")
  assert recorder.lines[-1].endswith("Study toy: 3 finished, 1 failed (toy/model), 2 skipped; 3.00 h left in all.")
  assert not (tmp_path / "i2a").exists()
  assert sorted(recorder.exported) == ["data", "standard", "standard_eval"]


def test_two_jobs_run_two_independent_runs_side_by_side(stage, tmp_path):
  a_started, b_started = (os.path.join(str(tmp_path), n, "times") for n in ("a", "b"))
  runs = [fake_run(stage, tmp_path, "a", wait_for=b_started), fake_run(stage, tmp_path, "b", wait_for=a_started)]
  code, recorder = run_study(runs, tmp_path, jobs=2)
  assert code == 0, recorder.lines
  (a_start, a_end), (b_start, b_end) = ([t for _, t in times(tmp_path, n)] for n in ("a", "b"))
  assert max(a_start, b_start) < min(a_end, b_end)  # Both had started before either ended.


def test_one_job_runs_one_run_at_a_time(stage, tmp_path):
  runs = [fake_run(stage, tmp_path, n) for n in ("a", "b", "c")]
  code, _ = run_study(runs, tmp_path, jobs=1)
  spans = sorted([t for _, t in times(tmp_path, n)] for n in ("a", "b", "c"))
  assert code == 0 and all(end <= next_start for (_, end), (next_start, _) in zip(spans, spans[1:]))


def test_a_failed_export_is_a_note_and_the_study_goes_on(stage, tmp_path):
  def broken(run_dir, out_dir):
    raise OSError(f"cannot write {out_dir}")
  lines = []
  tracker = runner.Tracker(graph.Study("toy", (fake_run(stage, tmp_path, "a"), fake_run(stage, tmp_path, "b"))),
                           os.getcwd(), str(tmp_path / "results"), exporter=broken, print_line=lines.append)
  assert runner.run_local(tracker, 1) == 0
  notes = [line for line in lines if " note " in line]
  assert len(notes) == 2 and "toy/a: its summary was not exported (OSError: cannot write" in notes[0]
  assert notes[0].endswith(os.path.join(str(tmp_path), "results", "runs") + ")")


def test_a_marker_run_writes_study_done_and_is_redone_for_another_command(stage, tmp_path):
  report = dataclasses.replace(fake_run(stage, tmp_path, "report"), completion=completion.Marker())
  code, _ = run_study([report], tmp_path)
  marker = tmp_path / "report" / completion.MARKER_FILE
  assert code == 0 and report.command in marker.read_text()
  code, again = run_study([report], tmp_path)
  assert "1 already done, 0 to run" in again.lines[0]
  other = dataclasses.replace(report, args=report.args + ("--steps=4",))
  code, third = run_study([other], tmp_path)
  assert code == 0 and "0 already done, 1 to run" in third.lines[0] and other.command in marker.read_text()


def test_critical_path_goes_first():
  runs = [graph.Run("t/short", ("x",), "d", StepsDone("d", 1), work=graph.Work(seconds=3600)),
          graph.Run("t/model", ("x",), "d", StepsDone("d", 1), work=graph.Work(seconds=600)),
          graph.Run("t/i2a", ("x",), "d", StepsDone("d", 1), needs=("t/model",), work=graph.Work(seconds=7200))]
  study = graph.Study("t", tuple(runs))
  chain = runner.critical_hours(study, {r.key: r.work.hours for r in runs})
  assert chain == pytest.approx({"t/short": 1.0, "t/model": 2 + 1 / 6, "t/i2a": 2.0})


def test_each_attempt_appends_its_command_to_the_log(stage, tmp_path):
  (tmp_path / "a").mkdir()
  (tmp_path / "a" / "steps").write_text("1")
  run_study([fake_run(stage, tmp_path, "a", steps=2, stop_after=2, fail=True)], tmp_path)
  code, _ = run_study([fake_run(stage, tmp_path, "a", steps=2)], tmp_path)
  headers = [line for line in (tmp_path / "a" / graph.LOG_FILE).read_text().splitlines() if line.startswith("===")]
  assert code == 0 and len(headers) == 2
  assert headers[0].startswith("=== toy/a at ") and headers[0].endswith("--steps=2 --stop_after=2 --fail")
  assert headers[1].endswith(f": python {stage} --out={tmp_path / 'a'} --steps=2")


def test_ctrl_c_waits_for_the_running_runs_and_starts_no_more(stage, tmp_path, monkeypatch):
  def interrupted(*args, **kwargs):
    raise KeyboardInterrupt  # As if Ctrl-C came while the runner waited (the runs get their own SIGINT).
  monkeypatch.setattr(runner.concurrent.futures, "wait", interrupted)
  code, recorder = run_study([fake_run(stage, tmp_path, "a"), fake_run(stage, tmp_path, "b", needs=("a",))], tmp_path)
  assert code == runner.INTERRUPTED
  assert recorder.lines[-1].endswith("Interrupted: waiting for toy/a to save and stop; the same command resumes "
                                     "the study.")
  assert [what for what, _ in times(tmp_path, "a")] == ["start", "end"] and not times(tmp_path, "b")
