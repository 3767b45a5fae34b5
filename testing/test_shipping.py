"""Shipped models (i2a/training/shipping.py, models/): a shipped agent restores the run's weights without
its optimizer, and every model in models/ loads and runs one step on a fresh clone, with no training."""
import dataclasses
import glob
import json
import os

import numpy as np
import pytest
import tensorflow as tf

from i2a import configs
from i2a import factory
from i2a.training import checkpointing
from i2a.training import env_model_metadata
from i2a.training import inference
from i2a.training import loop
from i2a.training import stored_config
from i2a.training import shipping
from testing import test_train_local

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHIPPED_AGENTS = sorted(os.path.dirname(p) for p in glob.glob(os.path.join(REPO, "models", "*", "*", "config.json")))
SHIPPED_MODELS = sorted(os.path.dirname(p) for p in glob.glob(os.path.join(REPO, "models", "*", "*", "env_model.json")))


def _saved_run(logdir):
  """A tiny run's logdir with a stored config and one checkpoint (untrained weights: nothing trains)."""
  config = test_train_local.tiny_config(logdir)
  config = dataclasses.replace(config, agent=config.agent.with_resolved_precision())
  learner, checkpointer = loop.build_learner(config)
  learner.num_frames.assign(1234)
  checkpointer.save(7)
  stored_config.save(config, str(logdir))
  return learner


def test_a_shipped_agent_has_the_runs_weights_and_config_but_no_optimizer(tmp_path):
  learner = _saved_run(tmp_path / "run")
  out = str(tmp_path / "shipped")
  shipped = shipping.ship_agent(str(tmp_path / "run"), out)
  assert shipped["num_frames"] == 1234 and shipped["bytes"] == shipping.directory_bytes(out) > 0
  # The index names the checkpoint relative to its directory, so a clone anywhere finds it.
  assert tf.train.latest_checkpoint(os.path.join(out, "checkpoints")) == shipped["path"]
  keys = [name for name, _ in tf.train.list_variables(inference.resolve_checkpoint(out))]
  assert not any(k.startswith("optimizer") for k in keys) and any(k.startswith("agent/") for k in keys)
  stored = stored_config.load(out)
  assert stored.logdir == out and stored.agent == stored_config.load(str(tmp_path / "run")).agent
  restored = inference.restore_agent(stored.agent, out)
  assert restored.num_frames == 1234
  for mine, theirs in zip(learner.variables(), restored.agent.trainable_variables):
    np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
  with pytest.raises(ValueError, match="already holds"):
    shipping.ship_agent(str(tmp_path / "run"), out)


def test_shipping_refuses_what_is_not_a_run_or_model(tmp_path):
  with pytest.raises(ValueError, match="no stored config.json"):
    shipping.ship_agent(str(tmp_path), str(tmp_path / "out"))
  with pytest.raises(ValueError, match="no exported environment model"):
    shipping.ship_env_model(str(tmp_path), str(tmp_path / "out"))


@pytest.mark.parametrize("with_event_report", [True, False], ids=["minipacman_events", "no_event_report"])
def test_a_shipped_environment_model_has_its_weights_metadata_and_metrics(tmp_path, with_event_report):
  tf.random.set_seed(0)
  model = factory.build_env_model(configs.AgentConfig(game="minipacman", variant="i2a"))
  model(tf.zeros([1, 15, 19, 3]), tf.zeros([1], tf.int32))
  run = tmp_path / "model_run"
  checkpointing.save_env_model(model, str(run / shipping.ENV_MODEL_PREFIX))
  reports = ["env_model.json", "eval_metrics.json"] + (["event_metrics.json"] if with_event_report else [])
  for i, name in enumerate(reports):
    (run / name).write_text(json.dumps({"report": i}))
  (run / "events.out.tfevents.1").write_text("not shipped")
  out = tmp_path / "shipped"
  prefix = shipping.ship_env_model(str(run), str(out))
  assert prefix == str(out / shipping.ENV_MODEL_PREFIX) and tf.train.latest_checkpoint(str(out)) == prefix
  assert (out / "checkpoint").read_text().startswith('model_checkpoint_path: "env_model"\n')  # Relative.
  weights = sorted(p.name for p in run.glob(shipping.ENV_MODEL_PREFIX + ".*") if p.suffix != ".json")
  assert sorted(p.name for p in out.iterdir()) == sorted(weights + reports + ["checkpoint"])
  for name in weights + reports:
    assert (out / name).read_bytes() == (run / name).read_bytes(), name
  twin = factory.build_env_model(configs.AgentConfig(game="minipacman", variant="i2a"))
  twin(tf.zeros([1, 15, 19, 3]), tf.zeros([1], tf.int32))
  checkpointing.load_env_model(twin, prefix)
  for mine, theirs in zip(tf.Module.variables.fget(model), tf.Module.variables.fget(twin)):
    np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


def test_models_are_shipped():
  assert SHIPPED_MODELS and SHIPPED_AGENTS, "models/ should hold the study's trained models"


@pytest.mark.parametrize("directory", SHIPPED_MODELS, ids=lambda d: os.path.relpath(d, os.path.join(REPO, "models")))
def test_every_shipped_environment_model_loads_and_imagines_a_step(directory):
  prefix = os.path.join(directory, shipping.ENV_MODEL_PREFIX)
  assert tf.train.latest_checkpoint(directory) == prefix
  metadata = env_model_metadata.load_metadata(prefix)
  model = factory.build_env_model(env_model_metadata.agent_config_for(metadata))
  height, width, _ = metadata["frame_shape"]
  stack = tf.zeros([2, height, width, 3])  # The study's agents and models see one frame.
  model(stack, tf.zeros([2], tf.int32))
  checkpointing.load_env_model(model, prefix)
  out = model(stack, tf.constant([1, 2], tf.int32))
  assert out.frame.shape == (2, height, width, 3) and np.all(np.isfinite(out.reward.numpy()))


@pytest.mark.parametrize("directory", SHIPPED_AGENTS, ids=os.path.basename)
def test_every_shipped_agent_restores_and_acts(directory, monkeypatch):
  monkeypatch.chdir(REPO)  # Shipped configs name their environment model relative to the repository.
  config = stored_config.load(directory)
  if config.env_model_checkpoint:
    assert glob.glob(config.env_model_checkpoint + ".index"), config.env_model_checkpoint
  restored = inference.restore_agent(config.agent, directory, seed=0, discount=config.learner.discount)
  assert restored.num_frames > 0
  policy = inference.PolicyStep(restored.agent)
  spec = config.agent.game_spec()
  frames = np.zeros((3, spec.height, spec.width, 3), np.uint8)
  output, _, _ = policy._step(frames, np.zeros(3, np.int32), policy.initial_state(3))  # pylint: disable=protected-access
  assert output.action.shape == (3,) and np.all(np.isfinite(output.policy_logits.numpy()))
  with open(os.path.join(directory, stored_config.CONFIG_FILE)) as f:
    assert json.load(f)["logdir"] == os.path.relpath(directory, REPO)
