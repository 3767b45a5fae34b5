"""The declared sokoban_small study (i2a/study/studies.py) and launch.study: every command names flag
files that exist and flags its binary defines, seed 1 is results/README.md's own commands, the graph
has the study's shape, and user mistakes end in one line."""
import importlib
import os

from absl import flags
import pytest

from i2a.study import completion
from i2a.study import graph
from i2a.study import registry
from i2a.study import studies
from launch import common_flags
from launch import study as study_binary
from testing import study_fakes

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = "--flagfile=launch/configs/study_sokoban_small_"


@pytest.fixture
def in_repo(monkeypatch):
  monkeypatch.chdir(REPO)  # The study reads its flag files relative to the repository, as the binaries do.


@pytest.mark.usefixtures("in_repo")
@pytest.mark.parametrize("directory", ["", "/elsewhere/"])
def test_every_command_parses_with_its_binarys_flags(parse_flags, directory):
  del parse_flags  # Requested for its clean-up: it unparses the global flags afterwards.
  study = studies.build("sokoban_small", seeds=2, runs_dir=f"{directory}runs", results_dir=f"{directory}results",
                        data_dir=f"{directory}data")
  for run in study.runs:
    assert run.args[0] == "-m" and run.args[1].startswith("launch.")
    module = importlib.import_module(run.args[1])  # Defines the binary's flags.
    flags.FLAGS.unparse_flags()
    rest = flags.FLAGS([run.args[1], *run.args[2:]])  # A missing flag file or an unknown flag raises.
    assert rest == [run.args[1]], (run.key, rest)
    assert module.__name__ == run.args[1]
  flags.FLAGS.unparse_flags()


@pytest.mark.usefixtures("in_repo")
def test_seed_1_is_the_readmes_commands_and_other_seeds_add_their_seed_and_logdir():
  study = studies.build("sokoban_small", seeds=3)
  command = lambda key: study[f"sokoban_small/{key}"].command
  assert command("data_agent") == f"python -m launch.train {CONFIGS}standard.flags --total_frames=1000000"
  assert command("collect") == f"python -m launch.collect {CONFIGS}collect.flags"
  assert command("env_model") == f"python -m launch.train_env_model {CONFIGS}env_model.flags"
  assert command("i2a_s1") == f"python -m launch.train {CONFIGS}i2a.flags"
  assert command("large_s3") == (f"python -m launch.train {CONFIGS}large.flags --seed=3 "
                                 "--logdir=runs/study_sokoban_small_large_s3")
  assert command("copy_s1/eval_greedy") == (
      f"python -m launch.evaluate {CONFIGS}copy.flags --num_levels=500 --box_counts=1,2 --seed=123456 --greedy "
      "--output_dir=runs/study_sokoban_small_copy_s1/eval_greedy")
  assert command("i2a_s2/eval_sampled") == (
      f"python -m launch.evaluate {CONFIGS}i2a.flags --seed=2 --logdir=runs/study_sokoban_small_i2a_s2 "
      "--num_levels=500 --box_counts=1,2 --seed=123456 --output_dir=runs/study_sokoban_small_i2a_s2/eval_sampled")
  runs = ",".join(f"results/sokoban_small/runs/study_sokoban_small_{a}_s{s}" for s in (1, 2, 3)
                  for a in ("standard", "large", "copy", "i2a"))  # The exported summaries.
  assert command("report") == (f"python -m launch.report --runs={runs} --output_dir=results/sokoban_small "
                               "--band=bootstrap --compare_to=i2a --smoothing=3 --last_points=3")


@pytest.mark.usefixtures("in_repo")
def test_other_directories_move_every_path_the_runs_share():
  study = studies.build("sokoban_small", seeds=1, runs_dir="/r", results_dir="/res", data_dir="/d")
  args = lambda key: study[f"sokoban_small/{key}"].args
  assert {"--agent_checkpoint=/r/study_sokoban_small_standard_s1", "--output_dir=/d/study_sokoban_small"} <= set(
      args("collect"))
  assert {"--data=/d/study_sokoban_small", "--logdir=/r/study_sokoban_small_env_model"} <= set(args("env_model"))
  for key in ("i2a_s1", "i2a_s1/eval_sampled"):  # The flag file's --seed=1 stays.
    assert {"--env_model_checkpoint=/r/study_sokoban_small_env_model",
            "--logdir=/r/study_sokoban_small_i2a_s1"} <= set(args(key))
  assert "--output_dir=/res/sokoban_small" in args("report") and study.report_dir == "sokoban_small"


@pytest.mark.usefixtures("in_repo")
def test_the_graph():
  study = studies.build("sokoban_small", seeds=5)
  needs = lambda key: study[f"sokoban_small/{key}"].needs
  assert len(study.runs) == 3 + 5 * 4 * 3 + 1
  assert needs("collect") == ("sokoban_small/data_agent",) and needs("env_model") == ("sokoban_small/collect",)
  assert needs("standard_s1") == ("sokoban_small/collect",)  # The data agent's run, continued to 2M.
  assert needs("i2a_s4") == ("sokoban_small/env_model",) and needs("copy_s4") == needs("standard_s2") == ()
  assert needs("i2a_s4/eval_greedy") == ("sokoban_small/i2a_s4",)
  assert len(needs("report")) == 60 and "sokoban_small/env_model" not in needs("report")
  data_agent, baseline = study["sokoban_small/data_agent"], study["sokoban_small/standard_s1"]
  assert data_agent.run_dir == baseline.run_dir == "runs/study_sokoban_small_standard_s1"
  assert data_agent.completion == completion.CheckpointFrames(data_agent.run_dir, 1_000_000)
  assert baseline.completion == completion.CheckpointFrames(baseline.run_dir, 2_000_000, from_frames=1_000_000)
  assert baseline.work.frames == 1_000_000  # The data agent trained the first million.
  assert study["sokoban_small/i2a_s2"].work.hours == pytest.approx(2_000_000 / 350 / 3600)
  assert study["sokoban_small/collect"].completion == completion.DataManifest("data/study_sokoban_small", 250_000)
  assert study["sokoban_small/env_model"].summary_dir is None  # Summaries are agents' runs only.
  assert study["sokoban_small/i2a_s2/eval_sampled"].summary_dir == "runs/study_sokoban_small_i2a_s2"


def _fail(*args):
  flags.FLAGS.unparse_flags()
  flags.FLAGS(["study", *args])
  try:
    with pytest.raises(SystemExit) as info:
      common_flags.guard(study_binary.main)(["study"])
  finally:
    flags.FLAGS.unparse_flags()
  assert isinstance(info.value.code, str) and "\n" not in info.value.code
  return info.value.code


@pytest.mark.usefixtures("in_repo")
def test_user_mistakes_end_in_one_line():
  assert _fail() == "study: error: --study is required: one of sokoban_small, sokoban_small_ablations."
  assert _fail("--study=sokobn") == ("study: error: Unknown study 'sokobn'; the declared studies are "
                                     "sokoban_small, sokoban_small_ablations.")
  assert _fail("--study=sokoban_small", "--seeds=0") == "study: error: --seeds=0: give at least 1 seed per agent."
  assert _fail("--study=sokoban_small", "--jobs=0") == "study: error: --jobs=0: give at least 1."
  assert _fail("--study=sokoban_small", "--ray_address=auto") == "study: error: --ray_address needs --runner=ray."


@pytest.mark.usefixtures("in_repo")
def test_dry_run_of_a_fresh_study(tmp_path, capsys):
  flags.FLAGS.unparse_flags()
  flags.FLAGS(["study", "--study=sokoban_small", "--seeds=2", "--dry_run", f"--runs_dir={tmp_path}",
               f"--data_dir={tmp_path}", f"--results_dir={tmp_path}", "--show_commands"])
  try:
    assert study_binary.main(["study"]) == 0
  finally:
    flags.FLAGS.unparse_flags()
  lines = capsys.readouterr().out.splitlines()
  assert lines[0] == "Study sokoban_small: 28 runs (0 done, 0 partial, 28 pending)."
  i2a = next(line for line in lines if line.startswith("  sokoban_small/i2a_s2 "))
  assert i2a.split() == ["sokoban_small/i2a_s2", "pending", "1.59", "h", "waits", "for", "env_model"]
  total = sum(run.work.hours for run in studies.build("sokoban_small", 2).runs)
  assert lines[29] == (f"Machine-hours left: {total:.2f} h of {total:.2f} h for the whole study (measured speeds "
                       "alone; see the study's declaration).")
  assert lines[30].startswith("  sokoban_small/data_agent: python -m launch.train ") and len(lines) == 30 + 28
  assert not os.listdir(tmp_path)  # A dry run writes nothing.


def test_the_binary_runs_a_study_and_returns_its_exit_status(tmp_path, monkeypatch, capsys):
  """A fake study in place of the declared one: the real exporter only notes that the fakes have no
  TensorBoard scalars to export."""
  stage = tmp_path / "fake_stage.py"
  stage.write_text(study_fakes.FAKE_STAGE)
  runs = (study_fakes.fake_run(str(stage), tmp_path, "a"),
          study_fakes.fake_run(str(stage), tmp_path, "b", needs=("a",), fail=True))
  monkeypatch.setattr(registry, "build", lambda *args: graph.Study("toy", runs, report_dir="toy"))
  flags.FLAGS.unparse_flags()
  flags.FLAGS(["study", "--study=toy", f"--results_dir={tmp_path}"])
  try:
    assert study_binary.main(["study"]) == 1
  finally:
    flags.FLAGS.unparse_flags()
  out = capsys.readouterr().out
  assert "done    toy/a" in out and "FAILED  toy/b" in out and "    | boom: failing as asked" in out
  assert (tmp_path / "b" / graph.LOG_FILE).exists()
