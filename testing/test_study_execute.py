"""i2a/study/execute.py: SIGTERM reaches the runs in flight, and a run's lock keeps two study commands from
running it twice (each runs the fake stage of testing/study_fakes.py)."""
import dataclasses
import threading

import pytest

from i2a.study import execute
from i2a.study import graph
from testing import study_fakes
from testing.study_fakes import fake_run, times


@pytest.fixture
def stage(tmp_path):
  return study_fakes.write_stage(tmp_path)


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
  script = tmp_path / "patient.py"
  script.write_text(PATIENT_STAGE)
  out = tmp_path / "patient"
  run = graph.Run("toy/patient", (str(script), str(out)), str(out), study_fakes.StepsDone(str(out), 3))
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
  run = fake_run(stage, tmp_path, "again", stop_after=1)  # Stops early (exit 0, not done), to be resumed.
  job = execute.Job(run, str(tmp_path))
  assert not execute.execute(job).ok
  outcome = execute.execute(dataclasses.replace(job, run=fake_run(stage, tmp_path, "again")))
  assert outcome.ok and open(job.log_path).read().count("=== toy/again at") == 2
