"""Compute precision (i2a/layers.py): float32 variables in every precision, checkpoints that load across
precisions, and a trained environment model that imagines the same rollouts in bfloat16 as in float32."""
import numpy as np
import pytest
import tensorflow as tf

from i2a.model_pipeline import data as model_data
from i2a.model_pipeline import streaming
from i2a.model_pipeline import training as model_training
from i2a import layers
from i2a.model_pipeline import precision_agreement
from i2a.env_models import MiniPacmanEnvModel
from testing import fakes
from testing import module_cases
from testing import test_env_model_training as synthetic

PALETTE = synthetic.PALETTE


@pytest.mark.parametrize("layer, shape", [
    (lambda: layers.Linear(6), (4, 10)), (lambda: layers.Conv2D(6, 3, stride=2), (2, 9, 7, 5)),
    (lambda: layers.Conv2DTranspose(6, 4, stride=4), (2, 3, 5, 5))])
def test_layers_keep_float32_variables_and_compute_in_the_input_dtype(layer, shape):
  tf.random.set_seed(0)
  module = layer()
  x = tf.random.uniform(shape)
  y32 = module(x)
  y16 = module(tf.cast(x, tf.bfloat16))
  assert y32.dtype == tf.float32 and y16.dtype == tf.bfloat16 and y16.shape == y32.shape
  assert [v.dtype for v in module.variables] == [tf.float32] * 2
  # bfloat16 keeps 8 significant bits: inputs and weights rounded, products summed in float32.
  np.testing.assert_allclose(tf.cast(y16, tf.float32).numpy(), y32.numpy(), atol=0.05, rtol=0.02)
  with tf.GradientTape() as tape:
    loss = tf.reduce_sum(tf.cast(module(tf.cast(x, tf.bfloat16)), tf.float32))
  grads = tape.gradient(loss, module.trainable_variables)
  assert [g.dtype for g in grads] == [tf.float32] * 2


def test_bfloat16_first_call_still_creates_float32_variables():
  module = layers.Conv2D(4, 3)
  module(tf.zeros([1, 5, 5, 2], tf.bfloat16))
  assert [v.dtype for v in module.variables] == [tf.float32] * 2


def test_unknown_precision_is_refused():
  with pytest.raises(ValueError, match="precision"):
    layers.compute_dtype("int8")


@pytest.mark.parametrize("variant", ["standard", "i2a"])
def test_checkpoints_load_across_precisions(tmp_path, variant):
  """A bfloat16 agent's checkpoint restores into a float32 agent and back: the variables are float32."""
  agents = {p: fakes.small_agent(variant, precision=p) for p in ("bfloat16", "float32")}
  frames = tf.constant(module_cases.frames(2))
  for agent in agents.values():
    agent(frames, agent.initial_state(2))
  path = tf.train.Checkpoint(agent=agents["bfloat16"]).write(str(tmp_path / "ckpt"))
  tf.train.Checkpoint(agent=agents["float32"]).read(path).assert_existing_objects_matched()
  for a, b in zip(agents["bfloat16"].variables, agents["float32"].variables):
    assert a.dtype == b.dtype and a.dtype in (tf.float32, tf.int64)
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def _trained_tiny_model(tmp_path):
  """A tiny MiniPacman model trained 300 updates on the synthetic dot game (seeded)."""
  synthetic.write_synthetic_data(tmp_path, num_shards=6)
  tf.random.set_seed(0)
  model = MiniPacmanEnvModel(frame_head="palette", palette=PALETTE, stem_channels=16,
                             blocks=((8, 8, 16),), large_kernel=3, event_channels=16)
  trainer = model_training.EnvModelTrainer(model, model_training.EnvModelTrainConfig(batch_size=32, learning_rate=3e-3))
  names = [e["file"] for e in model_data.read_manifest(str(tmp_path))["shards"]]
  batches = iter(streaming.transitions_dataset(str(tmp_path), names, 32, seed=0, shuffle_buffer=500))
  trainer.build(next(batches))
  for _ in range(300):
    trainer.update(next(batches))
  return model


def test_trained_env_model_imagines_the_same_rollouts_in_bfloat16(tmp_path):
  """>= 99.9% of imagined palette pixels and every event agree over 1,000 held-out 5-step rollouts."""
  model = _trained_tiny_model(tmp_path / "train")
  synthetic.write_synthetic_data(tmp_path / "held_out", num_shards=16, num_envs=16, seed=1)
  manifest = model_data.read_manifest(str(tmp_path / "held_out"))
  shards = [model_data.read_shard(str(tmp_path / "held_out"), e["file"], manifest)
            for e in manifest["shards"]]
  flat = lambda key, rows: np.concatenate([s[key][rows].reshape((-1,) + s[key].shape[2:]) for s in shards])
  starts, actions = flat("frame", slice(0, -1))[:1000], flat("action", slice(0, -1))[:1000]
  assert len(starts) == 1000
  # The model has learnt the game (it predicts the next frame better than copying it), so the agreement
  # below is not that of an untrained model's near-constant outputs.
  predicted = np.round(model(tf.constant(starts / 255, tf.float32), tf.constant(actions)).frame * 255)
  truth = flat("frame", slice(1, None))[:1000]
  assert np.mean(np.all(predicted == truth, -1)) > np.mean(np.all(starts == truth, -1)) + 0.01
  actions = np.random.default_rng(1).integers(0, 5, size=(len(starts), 5))
  stats = precision_agreement.rollout_agreement(model, starts, actions, tf.bfloat16)
  assert stats["pixel_agreement"] >= 0.999, stats
  assert stats["event_disagreements"] == 0, stats
