"""launch/train.py: every paper flag file gives a valid config; bad flags are refused before training."""
import glob
import os
import subprocess
import sys

from absl import flags
import pytest

from i2a import configs
from i2a.training import train_config

from launch import train  # pylint: disable=unused-import  (defines the flags parsed below)

FLAGS = flags.FLAGS
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG_DIR = os.path.join(REPO, "launch", "configs")
EXPECTED = ({"sokoban_standard", "sokoban_large", "sokoban_copy", "sokoban_i2a_no_reward"}
            | {"sokoban_i2a_poor_model", "sokoban_mc", "sokoban_mc_poor_model"}  # Paper Fig. 5.
            | {f"sokoban_i2a_encoder_{d}" for d in ("forward", "bidirectional")}  # Paper Sec. 3.2, fn. 1.
            | {f"sokoban_i2a_depth{d}" for d in (1, 3, 5, 15)}
            | {f"minipacman_{a}_{t}" for a in ("standard", "copy", "i2a")
               for t in ("regular", "avoid", "hunt", "ambush", "rush")})


def test_there_is_one_flag_file_per_paper_experiment():
  names = {os.path.basename(p)[:-len(".flags")] for p in glob.glob(os.path.join(CONFIG_DIR, "*.flags"))}
  trained = {n for n in names if not n.startswith(("pipeline_", "check_", "mcts_", "study_", "gpu_"))}
  assert trained - {"sokoban_generalisation_boxes"} == EXPECTED  # The rest are evaluation and planning.


def test_small_sokoban_learning_check_parses(parse_train_config):
  config = parse_train_config(f"--flagfile={os.path.join(CONFIG_DIR, 'check_sokoban_small.flags')}")
  assert (config.geometry.game, config.geometry.room_size, config.env.num_boxes, config.agent.variant) == (
      "sokoban", 6, 1, "standard")
  assert config.total_frames == 3_000_000 and config.logdir == "runs/check_sokoban_small"


@pytest.mark.parametrize("agent", ["standard", "large", "copy", "i2a"])
def test_study_agents_share_everything_but_the_agent(parse_train_config, monkeypatch, agent):
  """results/README.md's Sokoban study: one set of rooms, widths, budget and hyper-parameters."""
  monkeypatch.chdir(REPO)
  config = parse_train_config(f"--flagfile={os.path.join(CONFIG_DIR, f'study_sokoban_small_{agent}.flags')}")
  resolved = config.agent.resolved()
  assert (config.geometry.room_size, config.env.num_boxes, config.geometry.pixels_per_cell) == (6, 1, 2)
  assert (config.total_frames, config.batch_size, config.unroll_length, config.seed) == (2_000_000, 8, 10, 1)
  assert config.env.level_when_dry == "wait"  # Fresh levels for every agent, fast or slow.
  assert (config.learner.learning_rate, config.learner.entropy_cost) == (1e-3, 0.01)
  assert resolved.variant == agent and config.logdir == f"runs/study_sokoban_small_{agent}_s1"
  factor = 2 if agent == "large" else 1
  assert (resolved.torso.channels, resolved.hidden_size) == ((16 * factor, 16 * factor), 128 * factor)
  if agent in ("copy", "i2a"):
    assert (resolved.lstm_size, resolved.rollout_hidden_size, resolved.rollout_depth) == (128, 128, 5)
    assert resolved.env_model == ("copy" if agent == "copy" else "learned")
  # The study's environment model is sized for its 6x6 grid (WORKSPACE.md, deviation 45).
  assert resolved.env_model_size == ("small" if agent == "i2a" else "good")


@pytest.mark.parametrize("task", ["hunt", "ambush"])
@pytest.mark.parametrize("agent", ["standard", "copy", "i2a"])
def test_minipacman_study_agents_share_everything_but_the_agent(parse_train_config, monkeypatch, agent, task):
  """results/README.md's MiniPacman study: the paper's networks, one budget and hyper-parameters, and the
  one event model of the study's pipeline for every task (paper Sec. 5)."""
  monkeypatch.chdir(REPO)
  config = parse_train_config(f"--flagfile={os.path.join(CONFIG_DIR, f'study_minipacman_{agent}_{task}.flags')}")
  resolved = config.agent.resolved()
  assert (resolved.game, resolved.task, resolved.variant) == ("minipacman", task, agent)
  assert (config.total_frames, config.batch_size, config.unroll_length, config.seed) == (300_000, 8, 10, 1)
  assert (config.learner.learning_rate, config.learner.entropy_cost) == (6e-4, 0.01)
  assert (resolved.torso, resolved.hidden_size, resolved.lstm_size) == (configs.PAPER_TORSO["minipacman"], 256, 256)
  assert config.logdir == f"runs/study_minipacman_{agent}_{task}_s1"
  if agent != "standard":
    assert resolved.rollout_depth == 5 and resolved.env_model == ("copy" if agent == "copy" else "learned")
  if agent == "i2a":
    assert config.env_model_checkpoint == "runs/study_minipacman_env_model"


def test_minipacman_study_data_agent_plays_regular(parse_train_config, monkeypatch):
  monkeypatch.chdir(REPO)
  config = parse_train_config(f"--flagfile={os.path.join(CONFIG_DIR, 'study_minipacman_data_agent.flags')}")
  assert (config.agent.task, config.agent.variant, config.total_frames) == ("regular", "standard", 1_000_000)


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(CONFIG_DIR, "pipeline_*_[14]_*.flags"))),
                         ids=os.path.basename)
def test_pipeline_training_stages_parse(parse_train_config, monkeypatch, path):
  """The env-model pipeline's launch.train stages nest our experiment files (relative to the repo)."""
  monkeypatch.chdir(REPO)
  config = parse_train_config(f"--flagfile={path}")
  assert config.logdir.startswith("runs/pipeline_")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_flag_file_gives_the_experiments_config(parse_train_config, name):
  config = parse_train_config(f"--flagfile={os.path.join(CONFIG_DIR, name + '.flags')}")
  game, variant = name.split("_")[:2]
  agent = config.agent.resolved()
  assert (config.geometry.game, agent.game, agent.variant) == (game, game, variant)
  assert config.logdir == f"runs/{name}"
  assert config.total_frames == {"sokoban": 1_000_000_000, "minipacman": 300_000_000}[game] * (
      3 if name == "sokoban_i2a_no_reward" else 1)  # Paper Fig. 4 / App. D.2 / Fig. 6 budgets.
  factor = 2 if variant == "large" else 1  # The large baseline doubles every width (paper Sec. 4.1).
  assert agent.hidden_size == {"sokoban": 512, "minipacman": 256}[game] * factor  # Paper App. B.1 (WORKSPACE.md, deviation 12).
  if game == "sokoban":
    assert (config.geometry.room_size, config.env.num_boxes, config.geometry.pixels_per_cell) == (10, 4, 8)
    assert agent.torso.channels == tuple(c * factor for c in (32, 64, 64))
  else:
    assert config.geometry.task == agent.task == name.split("_")[2]
  assert agent.imag_path == ("none" if variant in ("standard", "large") else "imag")
  if variant in ("i2a", "mc"):
    assert agent.env_model == "learned" and config.env_model_checkpoint
    assert agent.rollout_depth == (int(name[len("sokoban_i2a_depth"):]) if "depth" in name else 5)
    assert agent.predict_reward == (name != "sokoban_i2a_no_reward")
    poor = name.endswith("_poor_model")
    assert agent.env_model_size == ("poor" if poor else "good")
    assert config.env_model_checkpoint == ("runs/env_model_sokoban_poor" if poor else
                                           "runs/env_model_sokoban_no_reward" if "no_reward" in name else
                                           "runs/env_model_sokoban" if game == "sokoban" else
                                           config.env_model_checkpoint)
    assert agent.encoder_direction == (name.rsplit("_", 1)[1] if "_encoder_" in name else "backward")
  if variant == "copy":
    assert agent.env_model == "copy" and config.env_model_checkpoint is None


def test_no_flags_give_the_small_default_run(parse_train_config):
  config = parse_train_config()
  assert config == train_config.TrainConfig()  # The library's default run is the command line's.
  assert (config.geometry.game, config.geometry.task, config.agent.variant) == ("minipacman", "regular", "standard")
  assert config.agent.torso.channels == (16, 16)  # The talk's torso.
  assert config.backend == "local" and config.total_frames == FLAGS["total_frames"].default
  assert config.batch_size % config.envs_per_actor == 0


@pytest.mark.parametrize("args,message", [
    (["--agent=i2a", "--env_model=learned"], "needs env_model_checkpoint"),
    (["--agent=i2a"], "needs env_model_checkpoint"),
    (["--agent=standard", "--imag_path=imag"], "model-free"),
    (["--agent=standard", "--env_model=conv"], "need an imagination path"),
    (["--agent=large", "--rollout_depth=3"], "need an imagination path"),
    (["--agent=copy", "--env_model=learned", "--env_model_checkpoint=x"], "copy model by definition"),
    (["--agent=copy", "--env_model_checkpoint=x"], "has no learned environment model"),
    (["--game=sokoban", "--task=hunt"], "only apply to --game=minipacman"),
    (["--game=minipacman", "--room_size=10"], "only apply to --game=sokoban"),
    (["--batch_size=20", "--envs_per_actor=16"], "multiple of envs_per_actor"),
    (["--game=sokoban", "--num_boxes=9", "--room_size=5"], "do not fit"),
    (["--game=minipacman", "--predict_reward=false"], "only apply to --game=sokoban"),
    (["--game=minipacman", "--level_workers=2"], "only apply to --game=sokoban"),
    (["--game=sokoban", "--levels=x", "--level_when_dry=wait"], "--levels reads level files"),
    (["--agent=mc", "--imag_path=none"], "all imagination"),
    (["--agent=mc", "--encoder_direction=forward", "--env_model=copy"], "no rollout encoder"),
    (["--agent=standard", "--encoder_direction=forward"], "need an imagination path"),
    (["--agent=copy", "--env_model_size=poor"], "weak Sokoban model"),
    (["--agent=i2a", "--env_model_size=poor", "--env_model_checkpoint=x"], "weak Sokoban model"),
], ids=["learned_without_checkpoint", "i2a_default_needs_checkpoint", "imag_with_standard",
        "env_model_with_standard", "depth_with_large", "copy_with_learned", "checkpoint_with_copy",
        "task_with_sokoban", "room_with_minipacman", "batch_not_multiple", "too_many_boxes",
        "no_reward_minipacman", "level_workers_minipacman", "level_supply_with_level_files",
        "mc_without_imagination", "mc_with_encoder_direction", "direction_with_standard", "poor_copy_model",
        "poor_minipacman"])
def test_invalid_combinations_are_refused(parse_train_config, args, message):
  with pytest.raises(ValueError, match=message):
    parse_train_config(*args)


@pytest.mark.parametrize("args, expected", [([], "rmsprop_tf1"), (["--optimizer=rmsprop_snt"], "rmsprop_snt")])
def test_optimizer_flag(parse_train_config, args, expected):
  assert parse_train_config(*args).learner.optimizer == expected


def test_level_supply_flags_reach_the_env_config(parse_train_config):
  default = parse_train_config("--game=sokoban").env
  assert (default.level_workers, default.level_when_dry) == (1, "replay")  # The pool, never waiting.
  env = parse_train_config("--game=sokoban", "--level_workers=3", "--level_pool_size=64",
                           "--level_when_dry=wait", "--level_replay_size=5").env
  assert (env.level_workers, env.level_pool_size, env.level_when_dry, env.level_replay_size) == (
      3, 64, "wait", 5)


def test_unknown_values_are_refused(parse_train_config):
  with pytest.raises(flags.IllegalFlagValueError, match="torso"):
    parse_train_config("--torso=16-3-1")
  with pytest.raises(flags.IllegalFlagValueError, match="agent"):
    parse_train_config("--agent=huge")
  with pytest.raises(flags.IllegalFlagValueError, match="optimizer"):
    parse_train_config("--optimizer=adam")


def test_missing_env_model_checkpoint_is_refused_before_training_starts(tmp_path):
  logdir = tmp_path / "run"
  result = subprocess.run(
      [sys.executable, "-m", "launch.train", "--agent=i2a", "--env_model=learned",
       f"--env_model_checkpoint={tmp_path / 'missing'}", f"--logdir={logdir}"],
      cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
  assert result.returncode != 0
  assert "does not exist" in result.stderr
  assert not logdir.exists()


def test_large_doubles_the_given_widths(parse_train_config):
  # A scaled-down study gives the standard agent's torso and FC; 'large' doubles them (paper Sec. 4.1).
  widths = ("--game=sokoban", "--torso=16:3:1,32:3:2", "--hidden_size=96")
  standard = parse_train_config(*widths, "--agent=standard").agent.resolved()
  large = parse_train_config(*widths, "--agent=large").agent.resolved()
  assert (standard.torso.channels, standard.hidden_size) == ((16, 32), 96)
  assert (large.torso.channels, large.hidden_size) == ((32, 64), 192)
  assert large.torso.kernel_shapes == standard.torso.kernel_shapes and large.torso.strides == standard.torso.strides


def test_encoder_widths_by_flag(parse_train_config):
  i2a_flags = ("--game=sokoban", "--agent=i2a", "--env_model=copy")
  default = parse_train_config(*i2a_flags).agent.resolved()
  assert (default.lstm_size, default.rollout_hidden_size) == (512, 512)  # The paper's Sokoban widths.
  scaled = parse_train_config(*i2a_flags, "--lstm_size=128", "--rollout_hidden_size=64").agent.resolved()
  assert (scaled.lstm_size, scaled.rollout_hidden_size) == (128, 64)


@pytest.mark.parametrize("name,game", [("gpu_sokoban_i2a_depth5", "sokoban"), ("gpu_minipacman_i2a_hunt", "minipacman")])
def test_one_gpu_machine_recipes_are_the_paper_runs_with_central_inference(parse_train_config, name, game):
  """results/README.md section 4's one-GPU recipe: the paper's flag file, with the policy on the server."""
  config = parse_train_config(f"--flagfile={os.path.join(CONFIG_DIR, name + '.flags')}")
  assert (config.inference, config.num_actors, config.envs_per_actor, config.batch_size) == ("central", 16, 32, 32)
  assert config.geometry.game == game and config.agent.variant == "i2a" and config.agent.precision == "bfloat16"
  assert config.total_frames == (1_000_000_000 if game == "sokoban" else 300_000_000)
