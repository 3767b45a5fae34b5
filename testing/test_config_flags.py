"""One declaration per setting (i2a/settings.py): the flags, their defaults, the resume and evaluation
lists and config.json all come from the config declarations, and old stored configs still load."""
import dataclasses
import glob
import json
import os
import shutil
import subprocess
import sys

from absl import flags
import pytest

from i2a import configs
from i2a import layers
from i2a import rl_losses
from i2a import settings
from i2a.training import environments
from i2a.training import learner_config
from i2a.training import stored_config
from i2a.training import train_config
from launch import config_flags
from launch import train  # pylint: disable=unused-import  (defines the flags parsed below)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG_DIR = os.path.join(REPO, "launch", "configs")
DATA = os.path.join(REPO, "testing", "data", "stored_configs")


def _flags_in(path: str) -> set[str]:
  """The flag names a flag file sets, nested flag files included."""
  names = set()
  for line in open(path):
    line = line.strip()
    if line.startswith("--flagfile="):
      names |= _flags_in(os.path.join(REPO, line.split("=", 1)[1]))
    elif line.startswith("--"):
      names.add(line[2:].split("=")[0])
  return names


def _training_flag_files() -> list[str]:
  """The flag files of launch.train runs: every flag they set is a setting of a training run."""
  return sorted(p for p in glob.glob(os.path.join(CONFIG_DIR, "*.flags"))
                if _flags_in(p) <= set(config_flags.names()) | {"noreuse_imagination", "nopredict_reward"})


def test_no_flags_give_the_library_default_run(parse_train_config):
  assert parse_train_config() == train_config.TrainConfig()


def test_sokoban_flags_take_the_declared_small_rooms(parse_train_config):
  config = parse_train_config("--game=sokoban")
  assert (config.geometry.room_size, config.geometry.pixels_per_cell) == (
      train_config.DEFAULT_SOKOBAN["agent.room_size"], train_config.DEFAULT_SOKOBAN["agent.pixels_per_cell"])
  assert config == settings.replaced(train_config.TrainConfig(), {"agent.game": "sokoban",
                                                                  **train_config.DEFAULT_SOKOBAN})


def test_most_flag_files_are_training_runs():
  trained = _training_flag_files()
  assert len(trained) >= 45 and os.path.join(CONFIG_DIR, "sokoban_i2a_depth5.flags") in trained


@pytest.mark.parametrize("path", _training_flag_files(), ids=os.path.basename)
def test_flag_file_round_trips_through_config_json(parse_train_config, monkeypatch, tmp_path, path):
  monkeypatch.chdir(REPO)  # Nested flag files are named relative to the repository.
  config = parse_train_config(f"--flagfile={path}")
  stored_config.save(config, str(tmp_path))
  assert stored_config.load(str(tmp_path)) == config


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(CONFIG_DIR, "*.flags"))), ids=os.path.basename)
def test_every_flag_file_parses_with_the_binaries_flags(parse_flags, monkeypatch, path):
  """The other flag files (environment models, collection, planning, evaluation) parse in a process
  where every binary has defined its flags; none uses an old flag name."""
  import importlib  # pylint: disable=g-import-not-at-top
  import pkgutil  # pylint: disable=g-import-not-at-top
  import launch  # pylint: disable=g-import-not-at-top
  for module in pkgutil.iter_modules(launch.__path__):
    importlib.import_module(f"launch.{module.name}")
  monkeypatch.chdir(REPO)
  del parse_flags  # For its clean-up.
  flags.FLAGS.unparse_flags()
  flags.FLAGS(["launch", f"--flagfile={path}"])
  from launch import common_flags  # pylint: disable=g-import-not-at-top
  assert not _flags_in(path) & set(common_flags.RENAMED)


@pytest.mark.parametrize("name", ["standard_without_inference", "i2a_with_inference"])
def test_stored_configs_of_runs_load(tmp_path, name):
  """config.json files written by runs of the study before the declarations (copied from them)."""
  shutil.copy(os.path.join(DATA, f"{name}.json"), tmp_path / stored_config.CONFIG_FILE)
  raw = json.load(open(tmp_path / stored_config.CONFIG_FILE))
  config = stored_config.load(str(tmp_path))
  assert config.agent.variant == raw["agent"]["variant"] and config.geometry.room_size == 6
  assert config.learner.learning_rate == raw["learner"]["learning_rate"] == 1e-3
  assert config.inference == raw.get("inference", "actor")
  assert config.inference_batch_workers is None and config.inference_max_wait_secs == 0.002  # Newer fields.
  # Everything the file holds comes back as it was stored (fields added since then aside).
  assert _as_in(stored_config.to_dict(config), raw) == raw


def _as_in(values: dict, like: dict) -> dict:
  """`values` with only the keys of `like`, recursively."""
  return {k: _as_in(values[k], v) if isinstance(v, dict) else values[k] for k, v in like.items()}


def test_stored_config_with_the_old_environment_geometry_loads(tmp_path):
  shutil.copy(os.path.join(DATA, "i2a_with_inference.json"), tmp_path / stored_config.CONFIG_FILE)
  raw = json.load(open(tmp_path / stored_config.CONFIG_FILE))
  raw["env"].update(game="sokoban", task=None, room_size=6, pixels_per_cell=2)  # As older versions wrote it.
  (tmp_path / stored_config.CONFIG_FILE).write_text(json.dumps(raw))
  assert stored_config.load(str(tmp_path)).geometry.room_size == 6


def test_the_resume_and_evaluation_lists_are_derived_from_the_scopes():
  assert set(train_config.MAY_CHANGE_ON_RESUME) == {
      "total_frames", "max_seconds", "log_every_secs", "checkpoint_every_secs", "checkpoint_every_frames",
      "max_checkpoints", "num_actors", "queue_size", "backend", "ray_address", "ray_connect_timeout_secs",
      "logdir", "deterministic", "inference", "learner.device", "learner.jit_compile", "env.level_workers",
      "env.level_pool_size", "inference_batch_workers", "inference_max_wait_secs"}
  assert set(train_config.EVALUATION_OVERRIDES) == {
      "env.levels", "logdir", "num_actors", "envs_per_actor", "total_frames", "backend", "ray_address",
      "checkpoint_every_secs", "checkpoint_every_frames", "log_every_secs", "seed", "inference"}


def test_every_setting_is_declared_once_with_help():
  declared = list(settings.declared(train_config.TrainConfig))
  assert len({d.path for d in declared}) == len(declared) > 60
  assert all(d.help.strip() for d in declared)
  flag_names = config_flags.names()
  assert len(set(flag_names)) == len(flag_names)
  for cls in (configs.AgentConfig, environments.EnvConfig, learner_config.LearnerConfig):
    assert {f.name for f in dataclasses.fields(cls)} == {d.path for d in settings.declared(cls)}


def test_value_lists_are_declared_once():
  assert configs.PRECISIONS is layers.PRECISIONS
  from i2a import imag_path  # pylint: disable=g-import-not-at-top
  assert configs.ENCODER_DIRECTIONS is imag_path.ENCODER_DIRECTIONS
  by_path = {d.path: d for d in settings.declared(train_config.TrainConfig)}
  assert by_path["learner.reward_clipping"].choices == rl_losses.REWARD_CLIPPING
  assert by_path["agent.precision"].choices == layers.PRECISIONS


@pytest.mark.parametrize("args,path,value", [
    (["--hidden_size=unset"], "agent.hidden_size", None),
    (["--torso=unset"], "agent.torso", None),
    (["--max_grad_norm=unset"], "learner.max_grad_norm", None),
    (["--seed=unset"], "seed", None),
    (["--checkpoint_every_secs=unset"], "checkpoint_every_secs", None),
    (["--hidden_size=64"], "agent.hidden_size", 64),
    (["--inference_batch_workers=2"], "inference_batch_workers", 2),
    (["--inference_max_wait_secs=0.01"], "inference_max_wait_secs", 0.01),
    (["--game=sokoban", "--levels=unset"], "env.levels", None),
], ids=["hidden", "torso", "clip", "seed", "checkpoints", "hidden_64", "batch_workers", "max_wait", "levels"])
def test_unset_is_one_word(parse_train_config, args, path, value):
  assert settings.get(parse_train_config(*args), path) == value


@pytest.mark.parametrize("arg", ["--hidden_size=0", "--lstm_size=0", "--torso=paper", "--seed=-1",
                                 "--max_grad_norm=0", "--checkpoint_every_secs=0", "--checkpoint_every_frames=0"])
def test_the_old_spellings_of_unset_are_refused_naming_the_new_one(parse_train_config, arg):
  name = arg[2:].split("=")[0]
  with pytest.raises(flags.IllegalFlagValueError, match=f"write --{name}=unset"):
    parse_train_config(arg)


def test_a_setting_that_always_has_a_value_cannot_be_unset(parse_train_config):
  with pytest.raises(flags.IllegalFlagValueError, match="cannot be unset"):
    parse_train_config("--rollout_depth=unset")


def test_a_renamed_flag_still_parses_with_a_warning(parse_train_config, capsys):
  assert parse_train_config("--env=sokoban").geometry.game == "sokoban"
  assert "--env is deprecated; use --game" in capsys.readouterr().err


def test_flag_help_and_choices_come_from_the_declarations():
  flag = flags.FLAGS["encoder_direction"]
  declared = config_flags.declared_flags()["encoder_direction"]
  assert flag.help.startswith(declared.help) and flag.parser.parse("forward") == "forward"
  with pytest.raises(ValueError):
    flag.parser.parse("sideways")
  assert flags.FLAGS["agent"].default == train_config.TrainConfig().agent.variant
  assert flags.FLAGS["learning_rate"].default == train_config.TrainConfig().learner.learning_rate


@pytest.mark.parametrize("binary", ["generate_levels", "minipacman_random_play"])
def test_binaries_without_tensorflow_load_none_and_refuse_training_flags(binary):
  code = (f"import sys; import launch.{binary}; from absl import flags; "
          "assert 'tensorflow' not in sys.modules, 'tensorflow loaded'; "
          "assert 'agent' not in flags.FLAGS and 'seed' in flags.FLAGS")
  result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120,
                          check=False)
  assert result.returncode == 0, result.stderr[-500:]
  result = subprocess.run([sys.executable, "-m", f"launch.{binary}", "--agent=i2a"], cwd=REPO,
                          capture_output=True, text=True, timeout=120, check=False)
  assert result.returncode != 0 and "agent" in result.stderr
