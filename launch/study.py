r"""Runs a whole study with one command: data agent, collection, environment model, agents x seeds,
evaluations, report (results/README.md's stages), each a subprocess of today's binaries and flag files.

  python -m launch.study --study=sokoban_small --dry_run            # The plan: runs, states, hours left.
  python -m launch.study --study=sokoban_small --seeds=5 --jobs=2   # Run what is not done, 2 at a time.
  python -m launch.study --study=sokoban_small --seeds=5 --runner=ray --ray_address=auto   # On a cluster.
  python -m launch.study --study=sokoban_small_ablations --jobs=2   # Issue 24's experiments, after the study.

Runs already done are skipped (read from what the binaries leave: checkpoints, manifests, results),
interrupted runs resume from their checkpoints, and a failed run is reported with the last lines of
its log (<run dir>/study.log) while the runs that do not wait for it go on. After each run, its
summary is exported to <results_dir>/<study>/runs. The studies are declared in i2a/study/studies.py
(agent studies) and i2a/study/ablations.py (the paper's other experiments as arms of a base study).
--runner says where the runs go (--runner=ray: each run is a Ray task, on the cluster of --ray_address);
each run's own actors keep the --backend of its flag files (a study's runner is not an actor transport).
"""
import os
import signal

from absl import app
from absl import flags

from i2a.study import estimates
from i2a.study import execute
from i2a.study import registry
from i2a.study import runner
from i2a.study import state
from launch import common_flags
from launch import config_flags

config_flags.define("ray_address")
_RUNNER = flags.DEFINE_enum("runner", "local", ["local", "ray"], "Where the study's runs go: 'local' "
                            "subprocesses, or 'ray' (each run a Ray task).")
_STUDY = flags.DEFINE_string("study", None, f"The study to run: {', '.join(registry.NAMES)}.")
_SEEDS = flags.DEFINE_integer("seeds", None, "Seeds per agent (1..N); seed 1 is the flag files' own run. "
                              "Default: 1 for an agent study, each arm's declared seeds for an ablation "
                              "study (which --seeds caps).")
_JOBS = flags.DEFINE_integer("jobs", 1, "Runs side by side at most (local runner); with --runner=ray "
                             "and no --ray_address, the local Ray cluster gets CPUs for this many runs.")
_DRY_RUN = flags.DEFINE_boolean("dry_run", False, "Print the plan (each run, its state, its machine-hours "
                                "left, what it waits for) and run nothing.")
_SHOW_COMMANDS = flags.DEFINE_boolean("show_commands", False, "With --dry_run, also print each command.")
_RUNS_DIR = flags.DEFINE_string("runs_dir", "runs", "Where the study's run directories go.")
_RESULTS_DIR = flags.DEFINE_string("results_dir", "results", "Where the report and run summaries go.")
_DATA_DIR = flags.DEFINE_string("data_dir", "data", "Where the collected environment-model data goes.")


def _stop_on_sigterm(signum, frame):
  """SIGTERM (a scheduler, `kill`) stops the study as Ctrl-C does: the running runs get it too and save
  a checkpoint, no new run starts, and the same command resumes. Without this the study would die at
  once and leave its runs training with nobody to export them."""
  del signum, frame
  execute.terminate_running()
  raise KeyboardInterrupt


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  fv = flags.FLAGS
  if not _STUDY.value:
    raise app.UsageError(f"--study is required: one of {', '.join(registry.NAMES)}.")
  if _JOBS.value < 1:
    raise app.UsageError(f"--jobs={_JOBS.value}: give at least 1.")
  if fv.ray_address and _RUNNER.value != "ray":
    raise app.UsageError("--ray_address needs --runner=ray.")
  try:
    study = registry.build(_STUDY.value, _SEEDS.value, _RUNS_DIR.value, _RESULTS_DIR.value, _DATA_DIR.value)
  except ValueError as e:
    raise app.UsageError(str(e)) from e
  statuses = state.read_statuses(study, os.getcwd())
  if _DRY_RUN.value:
    print("\n".join(estimates.plan_lines(study, statuses) + state.notes(study, statuses)))
    if _SHOW_COMMANDS.value:
      print("\n".join(estimates.command_lines(study)))
    return 0
  signal.signal(signal.SIGTERM, _stop_on_sigterm)
  tracker = runner.Tracker(study, os.getcwd(), _RESULTS_DIR.value, statuses=statuses)
  if _RUNNER.value == "ray":
    from i2a.study import ray_runner  # pylint: disable=g-import-not-at-top  # Ray is an optional extra.
    return ray_runner.run_ray(tracker, _JOBS.value, fv.ray_address)
  return runner.run_local(tracker, _JOBS.value)


if __name__ == "__main__":
  common_flags.run_main(main)
