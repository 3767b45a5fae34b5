"""The Sokoban environment model sized for small grids ('small', WORKSPACE.md deviation 45): the good
model's family with fewer channels (exact counts at the study's 12x12 frames), a fraction of its FLOPs
per imagined step, accepted only where a learned Sokoban model is, recorded in the export metadata and
refused where a model of another size is expected; the study's flag files use it."""
import functools
import os

import pytest
import tensorflow as tf

import i2a
from i2a import configs
from i2a.env_models import sokoban_model
from i2a.training import env_model_metadata
from i2a.profiling import model_cost
from testing import test_poor_env_model

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG_DIR = os.path.join(REPO, "launch", "configs")
STUDY = dict(game="sokoban", variant="i2a", room_size=6, pixels_per_cell=2)  # 12x12 frames, 6x6 grid.


# SokobanEnvModel's parameters by hand, at the study's 2 pixels per cell on the 6x6 grid.
_count = functools.partial(test_poor_env_model.parameter_count, ppc=2, cells=6)


def _built_model(size):
  config = configs.AgentConfig(env_model_size=size, **STUDY)
  model = i2a.build_env_model(config)
  spec = config.game_spec()
  model(tf.zeros([1, spec.height, spec.width, 3]), tf.zeros([1], tf.int32))
  return model


def test_factory_builds_the_small_size_with_32_channels_and_two_trunk_layers():
  model = _built_model("small")
  assert model.config.channels == 32 and model.config.num_trunk_layers == 2
  assert (model.config.reward_channels, model.config.reward_hidden) == (16, 64)
  kernels = {v.name.split("/")[-2]: v.shape for v in model.trainable_variables if v.name.endswith("w:0")}
  assert kernels["encoder"] == (2, 2, 8, 32) and kernels["trunk_0"] == kernels["trunk_1"] == (3, 3, 32, 32)


def test_small_model_exact_parameter_counts_against_the_good_one_at_12x12():
  good = model_cost.num_parameters(_built_model("good").trainable_variables)
  small = model_cost.num_parameters(_built_model("small").trainable_variables)
  assert good == _count(128, 2, 32, 64) == 414_444
  assert small == _count(32, 2, 16, 64) == 62_396


def test_small_model_costs_a_fraction_of_the_good_one_per_imagined_step():
  spec = configs.AgentConfig(**STUDY).game_spec()
  frames = tf.TensorSpec([40, spec.height, spec.width, 3], tf.float32)  # 8 environments x 5 actions.
  actions = tf.TensorSpec([40], tf.int32)
  flops = {size: model_cost.count_flops(lambda f, a, m=_built_model(size): m(f, a).frame, frames, actions)
           for size in ("good", "small")}
  assert 0 < flops["small"] < flops["good"] / 10


@pytest.mark.parametrize("kwargs", [
    pytest.param(dict(game="minipacman"), id="minipacman"),
    pytest.param(dict(game="sokoban", variant="copy"), id="copy_model"),
    pytest.param(dict(game="sokoban", env_model="conv"), id="talk_conv_model"),
    pytest.param(dict(game="sokoban", variant="standard"), id="model_free"),
])
def test_small_size_needs_a_learned_sokoban_model(kwargs):
  with pytest.raises(ValueError, match="sized for small grids"):
    configs.AgentConfig(env_model_size="small", **kwargs)


def test_small_model_is_refused_where_another_size_is_expected_and_accepted_where_it_is():
  config = configs.AgentConfig(env_model_size="small", **STUDY)
  spec = config.game_spec()
  metadata = dict(game="sokoban", model_kind="learned", frame_shape=[spec.height, spec.width, 3],
                  num_actions=spec.num_actions, frame_head="palette", palette=spec.palette.tolist(),
                  pixels_per_cell=2, predict_reward=True, room_size=6, model_size="small")
  env_model_metadata.check_env_model_compatible(metadata, config)
  assert env_model_metadata.agent_config_for(metadata).env_model_size == "small"
  for other in ("good", "poor"):
    with pytest.raises(ValueError, match=f"model_size is 'small' but the agent needs '{other}'"):
      env_model_metadata.check_env_model_compatible(metadata, configs.AgentConfig(env_model_size=other, **STUDY))
    with pytest.raises(ValueError, match=f"model_size is '{other}' but the agent needs 'small'"):
      env_model_metadata.check_env_model_compatible(dict(metadata, model_size=other), config)


def test_every_size_has_a_config_and_only_good_is_the_paper_default():
  assert set(configs.ENV_MODEL_SIZES) == set(sokoban_model.MODEL_SIZES)
  assert configs.AgentConfig().env_model_size == "good"


@pytest.mark.parametrize("name", ["study_sokoban_small_env_model", "study_sokoban_small_i2a"])
def test_study_flag_files_train_and_load_the_small_model(name):
  """The study's stage 3 exports a small model and its I2A loads one (a mismatch is refused at start)."""
  with open(os.path.join(CONFIG_DIR, f"{name}.flags")) as f:
    lines = [line.strip() for line in f if not line.startswith("#")]
  assert "--env_model_size=small" in lines
