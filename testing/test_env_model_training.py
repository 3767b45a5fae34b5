"""i2a/model_pipeline/training.py and launch/train_env_model.py: training reduces the loss, the metrics match
NumPy references, incompatible models are refused, and a trained model loads into launch.train's agent."""
import dataclasses
import os

import numpy as np
import pytest
import sonnet as snt
import tensorflow as tf

from i2a import configs
from i2a.training import environments
from i2a.model_pipeline import data as model_data
from i2a.model_pipeline import streaming
from i2a.model_pipeline import export
from i2a.model_pipeline import loop as model_loop
from i2a.model_pipeline import metrics as metrics_lib
from i2a.model_pipeline import training as model_training
from i2a import frame_processing
from i2a import games
from i2a.training import loop
from i2a import types
from i2a.env_models import CopyModel
from i2a.env_models import MiniPacmanEnvModel
from i2a.env_models import SizePreservingConvNetModel
from i2a.env_models import SokobanEnvModel
from i2a.training import env_model_metadata
from launch import train_env_model

PALETTE = np.array([[0, 0, 0], [255, 255, 255], [255, 0, 0]], np.uint8)
MOVES = ((0, 0), (0, 1), (-1, 0), (0, -1), (1, 0))  # MiniPacman's stay, right, up, left, down.


def write_synthetic_data(path, height=6, width=8, num_shards=4, length=16, num_envs=4, seed=0,
                         palette=PALETTE):
  """A dot game: a dot of colour 1 moves by the action (wrapping) past a fixed pixel of colour 2 on
  colour 0; 'step' fires every step and 'food' when moving right (reward 1); episodes of 6 steps restart
  the dot at random. Consecutive shards share a row, as launch.collect writes them."""
  rng = np.random.default_rng(seed)
  header = dict(game="minipacman", env_config={"game": "minipacman", "task": "regular"},
                frame_shape=[height, width, 3], num_actions=5, num_events=5, palette=palette.tolist(),
                policy="random", seed=seed)
  writer = model_data.ShardWriter(str(path), header)
  pos, t_in_episode = rng.integers([height, width], size=(num_envs, 2)), np.zeros(num_envs, int)
  for _ in range(num_shards):
    rows = dict(step_type=[], frame=[], action=[], reward=[], discount=[], events=[])
    for t in range(length + 1):
      frame = np.broadcast_to(palette[0], (num_envs, height, width, 3)).astype(np.uint8)
      frame[:, 0, 0] = palette[2]
      frame[np.arange(num_envs), pos[:, 0], pos[:, 1]] = palette[1]
      action = rng.integers(5, size=num_envs).astype(np.int32)
      rows["frame"].append(frame)
      rows["step_type"].append(np.where(t_in_episode == 0, 0, np.where(t_in_episode == 6, 2, 1)))
      rows["action"].append(action if t < length else np.full(num_envs, -1, np.int32))
      if t == length:
        break
      events = np.zeros((num_envs, 5), np.float32)
      events[:, 0], events[:, 1] = 1.0, action == 1
      restart = t_in_episode == 6
      pos = (pos + np.array(MOVES)[action]) % [height, width]
      pos[restart] = rng.integers([height, width], size=(restart.sum(), 2))
      t_in_episode = np.where(restart, 0, t_in_episode + 1)
      events[restart] = 0.0
      rows["events"].append(events)
      rows["reward"].append(events[:, 1].copy())
      rows["discount"].append(np.ones(num_envs, np.float32))
    rows["events"].insert(0, np.zeros((num_envs, 5), np.float32))  # Row 0's step arrived before the shard.
    rows["reward"].insert(0, np.zeros(num_envs, np.float32))
    rows["discount"].insert(0, np.ones(num_envs, np.float32))
    writer.write({k: np.stack(v).astype(model_data.DTYPES[k]) for k, v in rows.items()})
  writer.close()


TINY_MODELS = {
    "minipacman_events_palette": lambda: MiniPacmanEnvModel(
        frame_head="palette", palette=PALETTE, stem_channels=8, blocks=((4, 4, 8),), large_kernel=3,
        event_channels=8),
    "minipacman_events_bernoulli": lambda: MiniPacmanEnvModel(
        frame_head="bernoulli", stem_channels=8, blocks=((4, 4, 8),), large_kernel=3, event_channels=8),
    "sokoban_reward_bins": lambda: SokobanEnvModel(
        reward_bins=(-1.0, 0.0, 1.0), frame_head="palette", palette=PALETTE, channels=8, pixels_per_cell=2),
    "talk_conv_model": lambda: SizePreservingConvNetModel(5, (-1.0, 0.0, 1.0)),
}


@pytest.mark.parametrize("name", sorted(TINY_MODELS))
def test_a_few_hundred_updates_on_a_tiny_dataset_reduce_the_loss(tmp_path, name):
  write_synthetic_data(tmp_path)
  tf.random.set_seed(0)
  model = TINY_MODELS[name]()
  trainer = model_training.EnvModelTrainer(model, model_training.EnvModelTrainConfig(batch_size=32, learning_rate=3e-3))
  manifest = model_data.read_manifest(str(tmp_path))
  names = [e["file"] for e in manifest["shards"]]
  batches = iter(streaming.transitions_dataset(str(tmp_path), names, 32, seed=0, shuffle_buffer=500))
  fixed = next(batches)
  trainer.build(fixed)
  before = [float(x) for x in trainer.loss(fixed)]
  for _ in range(200):
    logs = trainer.update(next(batches))
  after = [float(x) for x in trainer.loss(fixed)]
  assert set(logs) == {"loss", "frame_loss", "reward_loss", "grad_norm"}
  assert int(trainer.step.numpy()) == 200 and int(trainer.optimizer.step.numpy()) == 200
  assert after[0] < 0.5 * before[0], (before, after)
  assert after[1] < before[1] and after[2] < before[2]


class ShiftModel(snt.Module):
  """A fake model whose next frame is the frame rolled right by `action` pixels."""

  def __call__(self, frame_stack, action):
    frame = frame_stack[..., -3:]
    rolled = tf.stack([tf.roll(f, tf.cast(a, tf.int32), axis=1)
                       for f, a in zip(tf.unstack(frame), tf.unstack(action))])
    zeros = tf.zeros([frame.shape[0]])
    return types.EnvModelOutput(rolled, zeros, zeros[:, None])


def _numpy_pixel_error(pred, target):
  """frame_error_rate from its definition: a pixel is wrong if some channel differs by more than 0.1."""
  return (np.abs(pred.astype(np.float64) - target.astype(np.float64)).max(-1) > 0.1 * 255).mean(axis=(-1, -2))


@pytest.mark.parametrize("model_name", ["copy", "shift"])
def test_rollout_errors_match_a_numpy_reference(model_name):
  rng = np.random.default_rng(0)
  m, depth = 7, 4
  start = rng.integers(0, 256, size=(m, 5, 6, 3)).astype(np.uint8)
  actions = rng.integers(5, size=(m, depth)).astype(np.int32)
  frames = np.empty((m, depth + 1, 5, 6, 3), np.uint8)
  frames[:, 0] = start
  for k in range(1, depth + 1):  # Real frames: the shift dynamics, with some pixels changed at random.
    frames[:, k] = np.stack([np.roll(start[i], actions[i, :k].sum(), axis=1) for i in range(m)])
    noise = rng.random(frames[:, k].shape[:-1]) < 0.1 * k
    frames[:, k][noise] = rng.integers(0, 256, size=(noise.sum(), 3))
  model = CopyModel(0) if model_name == "copy" else ShiftModel()
  errors = metrics_lib.rollout_errors(model, frames, actions, batch_size=3)
  # Open-loop: the copy model predicts frame 0 forever; the shift model rolls frame 0 by the real actions.
  expected = []
  for k in range(1, depth + 1):
    preds = start if model_name == "copy" else np.stack(
        [np.roll(start[i], actions[i, :k].sum(), axis=1) for i in range(m)])
    expected.append(_numpy_pixel_error(preds, frames[:, k]).mean())
  assert errors.shape == (depth,)
  np.testing.assert_allclose(errors, expected, atol=1e-6)


def test_rollout_errors_reject_mismatched_windows():
  with pytest.raises(ValueError, match="frames \\[M, K\\+1"):
    metrics_lib.rollout_errors(CopyModel(0), np.zeros((2, 3, 4, 4, 3), np.uint8), np.zeros((2, 3), np.int32))


@pytest.mark.parametrize("name", ["minipacman_events_palette", "talk_conv_model"])
def test_one_step_metrics_match_a_numpy_reference(tmp_path, name):
  write_synthetic_data(tmp_path, num_shards=1)
  manifest = model_data.read_manifest(str(tmp_path))
  pairs = model_data.transitions(model_data.read_shard(str(tmp_path), "shard-00000.npz", manifest))
  tf.random.set_seed(1)
  model = TINY_MODELS[name]()
  metrics = metrics_lib.one_step_metrics(model, pairs, batch_size=10)
  out = model(tf.cast(pairs["frame"], tf.float32) / 255.0, pairs["action"])
  pred = out.frame.numpy() * 255.0
  expected_error = _numpy_pixel_error(pred, pairs["next_frame"]).mean()
  assert metrics["pixel_error"] == pytest.approx(expected_error, abs=1e-6)
  if name.startswith("minipacman"):
    right = (out.reward_bins.numpy() > 0.5) == (pairs["events"] > 0.5)
    assert metrics["event_accuracy"] == pytest.approx(right.all(1).mean())
    assert metrics["event_accuracy/ate_food"] == pytest.approx(right[:, 1].mean())
    food = pairs["events"][:, 1] > 0.5
    assert metrics["event_recall/ate_food"] == pytest.approx((out.reward_bins.numpy()[food, 1] > 0.5).mean())
    assert "event_recall/ate_ghost" not in metrics  # Never happened: no recall to report.
  else:
    bins = np.array([-1.0, 0.0, 1.0])
    nearest = np.argmin(np.abs(pairs["reward"][:, None] - bins), axis=1)
    hits = out.reward_bins.numpy().argmax(1) == nearest
    assert metrics["reward_accuracy"] == pytest.approx(hits.mean())
    for i, value in enumerate(bins):  # Recall per bin, for the bins that occur in the data.
      assert metrics.get(f"reward_recall/{value:g}") == (
          pytest.approx(hits[nearest == i].mean()) if (nearest == i).any() else None)
    assert sum(k.startswith("reward_recall/") for k in metrics) >= 2  # The data has several rewards.


def _manifest(game, room_size=10, pixels_per_cell=8, task="regular"):
  spec = games.game_spec(game, task, room_size, pixels_per_cell)
  env = dict(game=game, task=task, room_size=room_size, pixels_per_cell=pixels_per_cell)
  return dict(game=game, env_config=env, frame_shape=[spec.height, spec.width, 3], num_actions=5,
              palette=spec.palette.tolist())


def _agent(**kwargs):
  return configs.AgentConfig(**dict(dict(variant="i2a", env_model="learned"), **kwargs))


@pytest.mark.parametrize("metadata,agent", [
    pytest.param(export.model_metadata("learned", _manifest("minipacman"), "palette"), _agent(task="hunt"),
                 id="minipacman_events_serve_every_task"),
    pytest.param(export.model_metadata("learned", _manifest("sokoban"), "palette"), _agent(game="sokoban"),
                 id="sokoban"),
    pytest.param(export.model_metadata("conv", _manifest("minipacman"), "palette"), _agent(env_model="conv"),
                 id="talk_conv_model"),
])
def test_matching_models_are_accepted(metadata, agent):
  env_model_metadata.check_env_model_compatible(metadata, agent)
  assert env_model_metadata.agent_config_for(metadata).resolved().env_model == metadata["model_kind"]


@pytest.mark.parametrize("metadata,agent,message", [
    pytest.param(export.model_metadata("learned", _manifest("minipacman"), "palette"), _agent(game="sokoban"),
                 "game is 'minipacman' but the agent needs 'sokoban'", id="other_game"),
    pytest.param(export.model_metadata("learned", _manifest("sokoban", 7), "palette"), _agent(game="sokoban"),
                 "frame_shape is \\[56, 56, 3\\]", id="other_frame_size"),
    pytest.param(export.model_metadata("learned", _manifest("sokoban", 20, 4), "palette"),
                 _agent(game="sokoban"), "pixels_per_cell is 4", id="other_sprite_size_same_frame_size"),
    pytest.param(export.model_metadata("learned", _manifest("minipacman"), "palette"),
                 _agent(frame_head="bernoulli"), "frame_head is 'palette'", id="other_frame_head"),
    pytest.param(export.model_metadata("learned", _manifest("minipacman"), "palette"), _agent(env_model="conv"),
                 "model_kind is 'learned'", id="other_model_kind"),
    pytest.param(export.model_metadata("conv", _manifest("minipacman"), "palette"),
                 _agent(env_model="conv", task="hunt"), "task is 'regular'",
                 id="conv_rewards_of_another_task"),
    pytest.param(export.model_metadata("learned", _manifest("sokoban"), "palette"),
                 _agent(game="sokoban", predict_reward=False), "predict_reward is True",
                 id="reward_vs_frames_only"),
    pytest.param(dict(export.model_metadata("learned", _manifest("minipacman"), "palette"),
                      palette=[[0, 0, 0], [1, 1, 1]]), _agent(), "palette", id="other_palette"),
    pytest.param(export.model_metadata("learned", _manifest("minipacman"), "palette"), _agent(variant="standard",
                 env_model=None), "has no learned environment model", id="model_free_agent"),
    pytest.param(export.model_metadata("learned", _manifest("minipacman"), "palette"), _agent(variant="copy",
                 env_model=None), "has no learned environment model", id="copy_model_agent"),
])
def test_incompatible_models_are_refused_with_the_difference_named(metadata, agent, message):
  with pytest.raises(ValueError, match=message):
    env_model_metadata.check_env_model_compatible(metadata, agent)


def test_missing_metadata_is_a_clear_error(tmp_path):
  with pytest.raises(ValueError, match="No environment-model metadata"):
    env_model_metadata.load_metadata(str(tmp_path / "env_model"))


@pytest.mark.parametrize("field,value", [pytest.param("steps", 0, id="steps"),
                                         pytest.param("learning_rate", 0.0, id="learning_rate"),
                                         pytest.param("eval_fraction", 1.0, id="eval_fraction"),
                                         pytest.param("max_grad_norm", -1.0, id="max_grad_norm")])
def test_bad_training_configs_are_refused(field, value):
  with pytest.raises(ValueError, match=field):
    model_training.EnvModelTrainConfig(**{field: value})


def _events(logdir):
  tags = set()
  for path in tf.io.gfile.glob(os.path.join(logdir, "events.out.tfevents.*")):
    for event in tf.compat.v1.train.summary_iterator(path):
      tags.update(value.tag for value in event.summary.value)
  return tags


def test_trained_model_is_exported_for_launch_train_and_training_resumes(tmp_path):
  data, logdir = tmp_path / "data", str(tmp_path / "model")
  write_synthetic_data(data, height=15, width=19, num_shards=3, length=8, num_envs=2,
                       palette=games.game_spec("minipacman").palette)
  config = model_training.EnvModelTrainConfig(steps=3, batch_size=4, eval_fraction=0.34, eval_every=2, log_every=1,
                                   checkpoint_every=2, eval_transitions=8, eval_windows=4, rollout_depth=2)
  result = model_loop.train_env_model(config, str(data), logdir)  # The paper's MiniPacman model.
  assert result["step"] == 3 and set(result) >= {"pixel_error", "event_accuracy", "rollout_error/2"}
  assert tf.train.latest_checkpoint(logdir) == os.path.join(logdir, "env_model") == result["export"]
  assert {"train/loss", "eval/pixel_error", "eval/rollout_error/1", "eval/imagination"} <= _events(logdir)
  metadata = env_model_metadata.load_metadata(logdir)
  assert (metadata["game"], metadata["model_kind"], metadata["frame_shape"]) == ("minipacman", "learned",
                                                                                [15, 19, 3])
  # launch.train's learner loads it (the directory form of --env_model_checkpoint, as in the flag files).
  agent_config = configs.AgentConfig(
      game="minipacman", variant="i2a", hidden_size=8, lstm_size=8, rollout_hidden_size=8,
      torso=frame_processing.TorsoConfig((4,), (3,), (2,)))
  env_model_metadata.check_checkpoint_compatible(logdir, agent_config)
  with pytest.raises(ValueError, match="frame_head"):
    env_model_metadata.check_checkpoint_compatible(logdir, configs.AgentConfig(game="minipacman", frame_head="bernoulli"))
  learner, _ = loop.build_learner(loop.TrainConfig(
      agent=agent_config, env=environments.EnvConfig(), logdir=str(tmp_path / "i2a"),
      env_model_checkpoint=logdir))
  stored = dict(tf.train.list_variables(result["export"]))
  assert len(learner.agent.frozen_variables) == len([k for k in stored if k.startswith("env_model/")])
  reader = tf.train.load_checkpoint(result["export"])
  net = "env_model/_network/_stem/w/.ATTRIBUTES/VARIABLE_VALUE"
  loaded = [v for v in learner.agent.frozen_variables if "stem/w" in v.name][0]
  np.testing.assert_array_equal(loaded.numpy(), reader.get_tensor(net))
  # launch.train's learner refuses it for another game before loading anything.
  with pytest.raises(ValueError, match="game"):
    loop.build_learner(loop.TrainConfig(
        agent=dataclasses.replace(agent_config, game="sokoban", room_size=5, pixels_per_cell=1),
        env=environments.EnvConfig(num_boxes=1),
        logdir=str(tmp_path / "i2a_sokoban"),
        env_model_checkpoint=logdir))
  # A rerun with more steps resumes from the newest checkpoint: 2 more updates, not 5.
  result = model_loop.train_env_model(dataclasses.replace(config, steps=5), str(data), logdir)
  ckpt = tf.train.latest_checkpoint(os.path.join(logdir, "checkpoints"))
  assert result["step"] == 5 and ckpt.endswith("ckpt-5")
  assert tf.train.load_variable(ckpt, "optimizer/step/.ATTRIBUTES/VARIABLE_VALUE") == 5
  with pytest.raises(ValueError, match="holds a model with other"):
    model_loop.train_env_model(config, str(data), logdir, model_kind="conv")

