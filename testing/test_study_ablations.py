"""The declared ablation study (i2a/study/ablations.py, ablation_runs.py): its keys and stages, the base
study's runs it reuses, that each arm changes only its ablated flags against the base study's flag file,
what waits for what, the order the runners start its stages in, --seeds, the budget, the poor model's
size at the study's frames, and that every command parses with its binary's flags."""
import importlib
import os

from absl import flags
import numpy as np
import pytest

from i2a.study import ablations
from i2a.study import completion
from i2a.study import flagfiles
from i2a.study import registry
from i2a.study import runner
from testing import test_small_env_model

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAME, BASE = "sokoban_small_ablations", "sokoban_small"
ARMS = {"i2a_d1": 3, "i2a_d3": 2, "i2a_poor_model": 2, "mc": 2, "mc_poor_model": 2, "i2a_no_reward": 2,
        "i2a_encoder_forward": 2, "i2a_encoder_bidirectional": 2}
ABLATED = {"i2a_d1": {"rollout_depth": "1"}, "i2a_d3": {"rollout_depth": "3"},
           "i2a_poor_model": {"env_model_size": "poor"}, "mc": {"agent": "mc"},
           "mc_poor_model": {"agent": "mc", "env_model_size": "poor"}, "i2a_no_reward": {"predict_reward": "false"},
           "i2a_encoder_forward": {"encoder_direction": "forward"},
           "i2a_encoder_bidirectional": {"encoder_direction": "bidirectional"}}
MODEL_OF = {"i2a_poor_model": "env_model_poor", "mc_poor_model": "env_model_poor", "i2a_no_reward": "env_model_no_reward"}


@pytest.fixture(autouse=True)
def in_repo(monkeypatch):
  monkeypatch.chdir(REPO)  # The study reads its flag files relative to the repository, as the binaries do.


@pytest.fixture(name="study")
def study_fixture():
  return registry.build(NAME, None)


def _own(study):
  return [run for run in study.runs if study.is_own(run.key)]


def test_keys_and_stages(study):
  expected = {f"search/mcts_{b}" for b in ("25k", "100k")} | {"search/report", "generalisation/report"}
  expected |= {f"search/i2a_s{s}_{m}" for s in (1, 2, 3) for m in ("alone", "outer")}
  expected |= {f"generalisation/{a}_s{s}" for a in ("standard", "i2a") for s in range(1, 6)}
  expected |= {"env_model_poor", "env_model_no_reward"}
  expected |= {f"{arm}_s{s}" for arm, seeds in ARMS.items() for s in range(1, seeds + 1)}
  expected |= {f"{e}/report" for e in ("depth", "poor_model", "frames_only", "encoder")}
  assert {run.name for run in _own(study)} == expected
  stage = {run.name: run.stage for run in _own(study)}
  assert {n for n, s in stage.items() if s == 0} == {n for n in expected if n.split("/")[0] in ("search", "generalisation")}
  assert {n for n, s in stage.items() if s == 1} == {"env_model_poor", "depth/report"} | {
      f"{a}_s{s}" for a in ("i2a_d1", "i2a_d3", "i2a_poor_model") for s in range(1, ARMS[a] + 1)}
  assert study.stages[0].startswith("evaluations") and len(study.stages) == 3


def test_the_base_studys_runs_are_reused_not_redeclared(study):
  borrowed = {run.key for run in study.runs if not study.is_own(run.key)}
  agents = {f"{BASE}/{a}_s{s}{e}" for a in ("standard", "i2a") for s in range(1, 6) for e in ("", "/eval_sampled")}
  assert borrowed == {f"{BASE}/data_agent", f"{BASE}/collect", f"{BASE}/env_model"} | agents
  base = registry.build(BASE, 5)
  for key in borrowed:  # The same commands and directories as the base study's own.
    assert study[key] == base[key]


def test_each_arm_changes_only_its_ablated_flags(study):
  base_flagfile = f"--flagfile=launch/configs/study_{BASE}_i2a.flags"
  base = flagfiles.flag_values([base_flagfile])
  for run in _own(study):
    arm = run.name.rsplit("_s", 1)[0]
    if arm not in ARMS:
      continue
    seed = int(run.name.rsplit("_s", 1)[1])
    assert run.args[:3] == ("-m", "launch.train", base_flagfile)
    values = flagfiles.flag_values(run.args[2:])
    changed = {n: v for n, v in values.items() if base.get(n) != v}
    model_dir = study[f"{NAME}/{MODEL_OF[arm]}"].run_dir if arm in MODEL_OF else base["env_model_checkpoint"]
    expected = dict(ABLATED[arm], logdir=f"runs/study_{NAME}_{arm}_s{seed}")
    if seed != 1:
      expected["seed"] = str(seed)
    if arm in MODEL_OF:
      expected["env_model_checkpoint"] = model_dir
    assert changed == expected, run.key
    assert values["env_model_checkpoint"] == model_dir


def test_the_models_are_fit_on_the_same_data_changing_only_their_flag(study):
  good = study[f"{BASE}/env_model"]
  good_values = flagfiles.flag_values(good.args[2:])
  for name, ablated in (("env_model_poor", {"env_model_size": "poor"}),
                        ("env_model_no_reward", {"predict_reward": "false"})):
    run = study[f"{NAME}/{name}"]
    values = flagfiles.flag_values(run.args[2:])
    assert values["data"] == good_values["data"] == "data/study_sokoban_small"
    changed = {n: v for n, v in values.items() if good_values.get(n) != v}
    assert changed == dict(ablated, logdir=f"runs/study_{NAME}_{name}")
    assert run.completion == completion.ExportedModel(run.run_dir, 12_000) and run.needs == (good.key,)


def test_what_waits_for_what(study):
  needs = lambda name: set(study[f"{NAME}/{name}"].needs)
  assert needs("i2a_d1_s2") == needs("mc_s1") == {f"{BASE}/env_model"}
  assert needs("i2a_poor_model_s2") == needs("mc_poor_model_s1") == {f"{NAME}/env_model_poor"}
  assert needs("i2a_no_reward_s1") == {f"{NAME}/env_model_no_reward"}
  assert needs("search/i2a_s3_outer") == needs("search/i2a_s3_alone") == {f"{BASE}/i2a_s3"}
  assert needs("search/mcts_25k") == set() and needs("generalisation/standard_s4") == {f"{BASE}/standard_s4"}
  assert needs("search/report") == {f"{NAME}/search/{n}" for n in ("mcts_25k", "mcts_100k")} | {
      f"{NAME}/search/i2a_s{s}_{m}" for s in (1, 2, 3) for m in ("alone", "outer")}
  assert needs("generalisation/report") == {f"{NAME}/generalisation/{a}_s{s}" for a in ("standard", "i2a")
                                            for s in range(1, 6)} | {
      f"{BASE}/{a}_s{s}/eval_sampled" for a in ("standard", "i2a") for s in range(1, 6)}
  assert needs("depth/report") == {f"{BASE}/i2a_s{s}" for s in range(1, 6)} | {
      f"{NAME}/i2a_d{d}_s{s}" for d, seeds in ((1, 3), (3, 2)) for s in range(1, seeds + 1)}
  assert f"{BASE}/standard_s5" in needs("poor_model/report") and f"{NAME}/mc_poor_model_s2" in needs(
      "poor_model/report")


def test_the_runners_start_evaluations_first_then_depth_and_poor_model_then_the_rest(study):
  order = runner.start_order(study, {run.key: run.work.hours for run in study.runs})
  own = sorted(_own(study), key=lambda run: order[run.key])
  assert [run.stage for run in own] == sorted(run.stage for run in own)
  assert order[f"{BASE}/i2a_s4"][0] == 0  # The base runs the evaluations wait for are early too.
  listed = [run for run in study.order() if study.is_own(run.key)]  # Ray gets the tasks in this order.
  assert [run.stage for run in listed] == sorted(run.stage for run in listed)


def test_seeds_cap_every_arm_and_the_base_study():
  study = registry.build(NAME, 1)
  names = {run.name for run in study.runs}
  assert all(f"{arm}_s2" not in names for arm in ARMS) and all(f"{arm}_s1" in names for arm in ARMS)
  assert f"{BASE}/i2a_s2" not in study.keys and "search/i2a_s2_alone" not in names
  assert study[f"{NAME}/generalisation/report"].needs == (
      f"{NAME}/generalisation/standard_s1", f"{NAME}/generalisation/i2a_s1", f"{BASE}/standard_s1/eval_sampled",
      f"{BASE}/i2a_s1/eval_sampled")
  with pytest.raises(ValueError, match="at least 1 seed"):
    registry.build(NAME, 0)


def test_the_budget_of_its_own_runs(study):
  hours = sum(run.work.hours for run in _own(study))
  assert 24.0 < hours < 26.0  # About 25 machine-hours (issue 24), by its own estimates.
  two_seeds = {run.name for run in _own(registry.build(NAME, 2))}
  assert {run.name for run in _own(study)} - two_seeds == {"i2a_d1_s3", "search/i2a_s3_alone", "search/i2a_s3_outer"} | {
      f"generalisation/{a}_s{s}" for a in ("standard", "i2a") for s in (3, 4, 5)}
  i2a = ablations.SOKOBAN_SMALL_ABLATIONS.base.speeds["i2a"]
  assert ablations.estimated_speed(169.0, i2a).frames_per_sec == i2a.frames_per_sec == 350  # I2A's own cost.
  # Depth 1: 350 frames/s x (2.68 + 0.00868 x 169) / (2.68 + 0.00868 x 34.7) ms per frame.
  assert ablations.estimated_speed(34.7, i2a).frames_per_sec == round(350 * 4.14692 / 2.981196) == 487


def test_the_poor_model_is_smaller_than_the_studys_at_its_frames():
  poor = sum(int(v.shape.num_elements()) for v in test_small_env_model._built_model("poor").trainable_variables)
  small = sum(int(v.shape.num_elements()) for v in test_small_env_model._built_model("small").trainable_variables)
  assert (poor, small) == (test_small_env_model._count(16, 1, 8, 16), 62_396) == (9_220, 62_396)


@pytest.mark.parametrize("directory", ["", "/elsewhere/"])
def test_every_command_parses_with_its_binarys_flags(parse_flags, directory):
  del parse_flags  # Requested for its clean-up: it unparses the global flags afterwards.
  study = registry.build(NAME, None, runs_dir=f"{directory}runs", results_dir=f"{directory}results",
                         data_dir=f"{directory}data")
  for run in _own(study):
    assert run.args[0] == "-m" and run.args[1].startswith("launch.")
    importlib.import_module(run.args[1])  # Defines the binary's flags.
    flags.FLAGS.unparse_flags()
    rest = flags.FLAGS([run.args[1], *run.args[2:]])  # A missing flag file or an unknown flag raises.
    assert rest == [run.args[1]], (run.key, rest)
    assert not directory or directory in " ".join(run.args), run.key
  flags.FLAGS.unparse_flags()


def test_dry_run_through_the_binary(tmp_path, capsys):
  from launch import study as study_binary  # pylint: disable=g-import-not-at-top  # Defines its flags.
  flags.FLAGS.unparse_flags()
  flags.FLAGS(["study", f"--study={NAME}", "--dry_run", f"--runs_dir={tmp_path}", f"--data_dir={tmp_path}",
               f"--results_dir={tmp_path}"])
  try:
    assert study_binary.main(["study"]) == 0
  finally:
    flags.FLAGS.unparse_flags()
  lines = capsys.readouterr().out.splitlines()
  study = registry.build(NAME, None)
  assert lines[0] == f"Study {NAME}: {len(study.runs)} runs (0 done, 0 partial, {len(study.runs)} pending)."
  parts = lines[1 + len(study.runs):-1]
  hours = lambda stage: sum(r.work.hours for r in study.runs if r.stage == stage and study.is_own(r.key))
  assert [p.split(":")[0] for p in parts] == [
      "  stage 0 (evaluations", "  stage 1 (depth and poor model)", "  stage 2 (the rest)",
      f"  runs of {BASE} it waits for"]
  assert parts[1].endswith(f"9 runs, {hours(1):.2f} h left of {hours(1):.2f} h")
  assert not os.listdir(tmp_path)  # A dry run writes nothing.


def test_the_search_methods_play_the_same_levels(study):
  """launch.evaluate --outer_search plays `Sokoban(seed=seed)`'s levels (search_models.evaluate_agent) and
  launch.mcts_sokoban draws `generate_level` from `default_rng(seed)`: with the same --seed, the same
  levels in the same order."""
  from envs.sokoban import env as env_lib  # pylint: disable=g-import-not-at-top
  from envs.sokoban import generator  # pylint: disable=g-import-not-at-top
  seed = 123_456  # The base study's evaluation seed (results/README.md section 1).
  for name in ("search/mcts_25k", "search/mcts_100k"):
    assert f"--seed={seed}" in study[f"{NAME}/{name}"].args
  for name in ("search/i2a_s2_alone", "search/i2a_s2_outer", "generalisation/standard_s3"):
    assert study[f"{NAME}/{name}"].args[-2] == f"--seed={seed}"  # After the agent's flag file (its --seed).
  env = env_lib.Sokoban(6, 6, 1, 120, pixels_per_cell=2, seed=seed)
  played = []
  for _ in range(3):
    env.reset()
    played.append(env.current_level())
  rng = np.random.default_rng(seed)
  drawn = [generator.generate_level(rng, width=6, height=6, num_boxes=1) for _ in range(3)]
  np.testing.assert_array_equal(np.stack(played), np.stack(drawn))
  assert len({level.tobytes() for level in drawn}) == 3
