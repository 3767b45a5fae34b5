"""i2a/study/runner.py on a fake study whose runs are a tiny script: finished runs are skipped, a partial
run resumes, a failure stops only the runs that wait for it, and --jobs=2 runs two runs side by side.

The fake stage (FAKE_STAGE) counts steps in `<out>/steps`, resuming from the count it finds (as the
binaries resume from their checkpoints), appends its start and end times to `<out>/times`, and can be
told to fail, to stop early with exit status 0 (as a binary does on SIGTERM), or to wait for a file.
"""
import dataclasses
import os

import pytest

from i2a.study import completion
from i2a.study import graph
from i2a.study import runner

FAKE_STAGE = r"""
import argparse, os, sys, time
parser = argparse.ArgumentParser()
parser.add_argument("--out"); parser.add_argument("--steps", type=int, default=3)
parser.add_argument("--stop_after", type=int, default=0); parser.add_argument("--fail", action="store_true")
parser.add_argument("--wait_for", default=""); parser.add_argument("--needs", default="")
args = parser.parse_args()
os.makedirs(args.out, exist_ok=True)
def note(what):
  with open(os.path.join(args.out, "times"), "a") as f:
    f.write(f"{what} {time.time()!r}\n")
note("start")
for need in filter(None, args.needs.split(",")):
  assert os.path.exists(need), f"{need} is missing: the runner started this run too early"
if args.fail:
  print("boom: failing as asked", flush=True)
  sys.exit(3)
if args.wait_for:  # Proves that two runs overlap: each waits for the other's start.
  deadline = time.time() + 120
  while not os.path.exists(args.wait_for):
    assert time.time() < deadline, f"{args.wait_for} never appeared: the runs did not overlap"
    time.sleep(0.05)
path = os.path.join(args.out, "steps")
done = int(open(path).read()) if os.path.exists(path) else 0
print(f"resuming at step {done}", flush=True)
for step in range(done + 1, args.steps + 1):
  open(path, "w").write(str(step))
  if step == args.stop_after:
    print("stopped early, like a SIGTERM", flush=True)
    break
note("end")
"""


@dataclasses.dataclass(frozen=True)
class StepsDone:
  """The fake stage's completion: `steps` counted in `<out>/steps`.

  Attributes:
    out: the fake's --out.
    steps: its --steps.
  """
  out: str
  steps: int

  def status(self, run: graph.Run, root: str) -> completion.Status:
    del run
    path = os.path.join(root, self.out, "steps")
    count = int(open(path).read()) if os.path.exists(path) else 0
    if count >= self.steps:
      return completion.Status(completion.DONE, 1.0, f"{count}/{self.steps} steps")
    if count:
      return completion.Status(completion.PARTIAL, count / self.steps, f"{count}/{self.steps} steps")
    return completion.Status(completion.PENDING)


@pytest.fixture
def stage(tmp_path):
  path = tmp_path / "fake_stage.py"
  path.write_text(FAKE_STAGE)
  return str(path)


def fake_run(stage: str, root, name: str, needs=(), steps: int = 3, hours: float = 1.0, **options) -> graph.Run:
  """A fake run `toy/<name>` writing to `<root>/<name>`; options: fail, stop_after, wait_for."""
  out = os.path.join(str(root), name)
  args = [stage, f"--out={out}", f"--steps={steps}"]
  args += [f"--needs={','.join(os.path.join(str(root), n, 'steps') for n in needs)}"] if needs else []
  args += [f"--{k}" if v is True else f"--{k}={v}" for k, v in options.items()]
  return graph.Run(f"toy/{name}", tuple(args), out, StepsDone(out, steps), needs=tuple(f"toy/{n}" for n in needs),
                   work=graph.Work(seconds=hours * 3600), summary_dir=out)


def times(root, name: str) -> list[tuple[str, float]]:
  path = os.path.join(str(root), name, "times")
  if not os.path.exists(path):
    return []
  return [(what, float(t)) for what, t in (line.split() for line in open(path))]


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


PATIENT_STAGE = r"""
import os, signal, sys, time
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
def stop(signum, frame):  # As the binaries do on SIGTERM: save and exit 0, to be resumed.
  open(os.path.join(out, "stopped"), "w").write("SIGTERM")
  sys.exit(0)
signal.signal(signal.SIGTERM, stop)
open(os.path.join(out, "started"), "w").write("yes")
deadline = time.time() + 120
while time.time() < deadline:
  time.sleep(0.05)
sys.exit(4)  # Never signalled.
"""


def test_terminate_running_stops_the_runs_in_flight(tmp_path):
  """launch.study's SIGTERM handler calls execute.terminate_running: each running run gets SIGTERM,
  saves and exits 0, and its outcome says it is not done (so the runs that wait for it do not start)."""
  import threading  # pylint: disable=g-import-not-at-top
  from i2a.study import execute  # pylint: disable=g-import-not-at-top
  script = tmp_path / "patient.py"
  script.write_text(PATIENT_STAGE)
  out = tmp_path / "patient"
  run = graph.Run("toy/patient", (str(script), str(out)), str(out), StepsDone(str(out), 3))
  outcomes = []
  worker = threading.Thread(target=lambda: outcomes.append(execute.execute(execute.Job(run, str(tmp_path)))))
  worker.start()
  for _ in range(1200):
    if (out / "started").exists():
      break
    threading.Event().wait(0.05)
  assert (out / "started").exists()
  assert execute.terminate_running() == 1
  worker.join(timeout=60)
  assert not worker.is_alive() and (out / "stopped").read_text() == "SIGTERM"
  (outcome,) = outcomes
  assert outcome.exit_code == 0 and not outcome.ok
  assert execute.terminate_running() == 0  # Nothing left running.


def test_a_run_another_study_command_is_running_is_waited_for_and_not_run_twice(stage, tmp_path):
  """Two study commands that share a run (the ablation study waits for the five-seed study's agents):
  the second waits on the run's lock, then finds it done and does not start it again."""
  import threading  # pylint: disable=g-import-not-at-top
  from i2a.study import execute  # pylint: disable=g-import-not-at-top
  gate = tmp_path / "gate"
  run = fake_run(stage, tmp_path, "shared", wait_for=str(gate))
  job = execute.Job(run, str(tmp_path))
  outcomes = {}
  first = threading.Thread(target=lambda: outcomes.update(first=execute.execute(job)))
  second = threading.Thread(target=lambda: outcomes.update(second=execute.execute(job)))

  def wait_until(condition):
    for _ in range(2400):
      if condition():
        return True
      threading.Event().wait(0.05)
    return False

  first.start()
  assert wait_until(lambda: len(times(tmp_path, "shared")) == 1)  # The first command's run has started.
  second.start()
  assert wait_until(lambda: "Another study command is running toy/shared" in open(job.log_path).read())
  assert times(tmp_path, "shared")[0][0] == "start" and len(times(tmp_path, "shared")) == 1
  gate.write_text("go")
  first.join(timeout=120)
  second.join(timeout=120)
  assert not first.is_alive() and not second.is_alive()
  assert outcomes["first"].ok and outcomes["second"].ok and outcomes["second"].exit_code == 0
  assert [what for what, _ in times(tmp_path, "shared")] == ["start", "end"]  # It ran once.
  assert open(job.log_path).read().count("=== toy/shared at") == 1


def test_the_lock_is_released_so_a_later_command_runs_the_run(stage, tmp_path):
  from i2a.study import execute  # pylint: disable=g-import-not-at-top
  run = fake_run(stage, tmp_path, "again", stop_after=1)  # Stops early (exit 0, not done), to be resumed.
  job = execute.Job(run, str(tmp_path))
  assert not execute.execute(job).ok
  outcome = execute.execute(dataclasses.replace(job, run=fake_run(stage, tmp_path, "again")))
  assert outcome.ok and open(job.log_path).read().count("=== toy/again at") == 2
