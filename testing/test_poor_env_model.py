"""The poor Sokoban environment model of paper Fig. 5: same family, far fewer parameters (exact counts),
trained and exported by the pipeline with its k-step rollout errors, recorded in the export metadata, and
refused where a good model is expected (and the reverse)."""
import dataclasses
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import i2a
from i2a import configs
from i2a import games
from i2a.model_pipeline import collection
from i2a.model_pipeline import data as model_data
from i2a.model_pipeline import export
from i2a.model_pipeline import loop as model_loop
from i2a.model_pipeline import training as model_training
from i2a.training import environments
from i2a.training import inference
from i2a.training import loop
from i2a.profiling import model_cost
from i2a.training import env_model_metadata


def _conv(kernel, c_in, c_out):
  return kernel * kernel * c_in * c_out + c_out


def _linear(n_in, n_out):
  return n_in * n_out + n_out


def parameter_count(channels, trunk, reward_channels, reward_hidden, ppc=8, cells=10, actions=5, palette=8, bins=4):
  """SokobanEnvModel's parameters by hand: encoder, residual trunk, decoder, reward conv + 2 Linears."""
  return (_conv(ppc, 3 + actions, channels) + trunk * _conv(3, channels, channels)
          + ppc * ppc * channels * palette + palette + _conv(3, channels, reward_channels)
          + _linear(cells * cells * reward_channels, reward_hidden) + _linear(reward_hidden, bins))


def _built_model(size):
  config = configs.AgentConfig(game="sokoban", variant="i2a", env_model_size=size)
  model = i2a.build_env_model(config)
  spec = config.game_spec()
  model(tf.zeros([1, spec.height, spec.width, 3]), tf.zeros([1], tf.int32))
  return model


def test_poor_model_has_far_fewer_parameters_exact_counts():
  good, poor = model_cost.num_parameters(_built_model("good").trainable_variables), model_cost.num_parameters(
      _built_model("poor").trainable_variables)
  assert good == parameter_count(128, 2, 32, 64) == 668_396
  assert poor == parameter_count(16, 1, 8, 16) == 32_772
  assert good > 20 * poor


@pytest.mark.parametrize("kwargs,message", [
    pytest.param(dict(game="minipacman"), "weak Sokoban model", id="minipacman"),
    pytest.param(dict(game="sokoban", variant="copy"), "weak Sokoban model", id="copy_model"),
    pytest.param(dict(game="sokoban", env_model="conv"), "weak Sokoban model", id="talk_conv_model"),
    pytest.param(dict(game="sokoban", variant="standard"), "weak Sokoban model", id="model_free"),
])
def test_poor_size_needs_a_learned_sokoban_model(kwargs, message):
  with pytest.raises(ValueError, match=message):
    configs.AgentConfig(env_model_size="poor", **kwargs)


REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GEOMETRY = games.Geometry("sokoban", room_size=5, pixels_per_cell=2)
ENV = environments.EnvConfig(num_boxes=1, max_steps=20)


def _agent(size, variant="i2a"):
  return configs.AgentConfig(game="sokoban", variant=variant, room_size=5, pixels_per_cell=2,
                             env_model_size=size, rollout_depth=1, hidden_size=8, lstm_size=8,
                             rollout_hidden_size=8, torso=i2a.TorsoConfig((4,), (3,), (2,)))


def test_poor_model_trains_exports_reports_rollout_errors_and_is_refused_for_a_good_one(tmp_path):
  data, logdir = str(tmp_path / "data"), str(tmp_path / "poor")
  writer = model_data.ShardWriter(data, collection.data_header(GEOMETRY, ENV, "random", 3))
  collection.collect(environments.build_env(GEOMETRY, ENV, 4, seed=3), inference.UniformActions(5, 3), writer,
                     num_transitions=144, shard_size=48, session_seed=3)
  writer.close()
  config = model_training.EnvModelTrainConfig(steps=1, batch_size=8, eval_fraction=0.34, eval_every=1,
                                              log_every=1, checkpoint_every=1, eval_transitions=8,
                                              eval_windows=4, rollout_depth=5)
  result = model_loop.train_env_model(config, data, logdir, model_size="poor")
  assert result["step"] == 1
  # The k-step open-loop errors of the good model's metrics, k = 1..5, beside the copy model's.
  for k in range(1, 6):
    assert 0.0 <= result[f"rollout_error/{k}"] <= 1.0 and f"rollout_error/{k}" in result["copy_baseline"]
  metadata = env_model_metadata.load_metadata(logdir)
  assert metadata["model_size"] == "poor" and metadata["eval_metrics"]["rollout_error/5"] >= 0
  # Loaded by an agent configured for the poor model (I2A or MC) ...
  env_model_metadata.check_checkpoint_compatible(logdir, _agent("poor"))
  learner, _ = loop.build_learner(loop.TrainConfig(agent=_agent("poor", "mc"), env=ENV,
                                                   logdir=str(tmp_path / "mc"), env_model_checkpoint=logdir))
  assert sum(int(np.prod(v.shape)) for v in learner.agent.frozen_variables) == parameter_count(
      16, 1, 8, 16, ppc=2, cells=5)
  # ... and refused, before any weight is loaded, by one configured for the good model.
  with pytest.raises(ValueError, match="model_size is 'poor' but the agent needs 'good'"):
    loop.build_learner(loop.TrainConfig(agent=_agent("good"), env=ENV, logdir=str(tmp_path / "i2a"),
                                        env_model_checkpoint=logdir))
  # A rerun of the same logdir as a good model is refused too.
  with pytest.raises(ValueError, match="holds a model with other"):
    model_loop.train_env_model(dataclasses.replace(config, steps=2), data, logdir)


def test_good_model_is_refused_where_a_poor_one_is_expected():
  manifest = dict(game="sokoban", env_config=dict(game="sokoban", room_size=10, pixels_per_cell=8),
                  frame_shape=[80, 80, 3], num_actions=5,
                  palette=configs.AgentConfig(game="sokoban").game_spec().palette.tolist())
  good = export.model_metadata("learned", manifest, "palette")
  poor_agent = configs.AgentConfig(game="sokoban", variant="mc", env_model_size="poor")
  with pytest.raises(ValueError, match="model_size is 'good' but the agent needs 'poor'"):
    env_model_metadata.check_env_model_compatible(good, poor_agent)
  env_model_metadata.check_env_model_compatible(good, dataclasses.replace(poor_agent, env_model_size="good"))
  # Exports written before the field existed are good models.
  legacy = {k: v for k, v in good.items() if k != "model_size"}
  env_model_metadata.check_env_model_compatible(legacy, configs.AgentConfig(game="sokoban"))
  with pytest.raises(ValueError, match="model_size"):
    env_model_metadata.check_env_model_compatible(legacy, poor_agent)
  assert env_model_metadata.agent_config_for(dict(good, model_size="poor")).env_model_size == "poor"


def test_launch_train_refuses_a_poor_model_for_a_good_agent_in_one_line(tmp_path):
  model = tmp_path / "poor"
  manifest = dict(game="sokoban", env_config=dict(game="sokoban", room_size=7, pixels_per_cell=2),
                  frame_shape=[14, 14, 3], num_actions=5,
                  palette=configs.AgentConfig(game="sokoban").game_spec().palette.tolist())
  model.mkdir()
  export.write_metadata(str(model), export.model_metadata("learned", manifest, "palette", model_size="poor"))
  result = subprocess.run([sys.executable, "-m", "launch.train", "--env=sokoban", "--agent=i2a",
                           f"--env_model_checkpoint={model}", f"--logdir={tmp_path / 'run'}"],
                          cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
  assert result.returncode != 0 and "Traceback" not in result.stderr
  assert "model_size is 'poor' but the agent needs 'good'" in result.stderr
  assert not (tmp_path / "run").exists()
