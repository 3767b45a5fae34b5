"""i2a/model_pipeline/pictures.py and launch/imagine.py: imagined rollouts, the grid and GIF layout, the
TensorBoard image, and the binary writing a PNG and a GIF of the right size."""
import io
import json
import os

from absl import app
import numpy as np
from PIL import Image
import pytest
import sonnet as snt
import tensorflow as tf

from i2a.training import checkpointing
from i2a import configs
from i2a.training import environments
from i2a.training import inference
from i2a.model_pipeline import export
from i2a.model_pipeline import real_vs_imagined
from i2a import factory
from i2a import frame_processing
from i2a import games
from i2a.model_pipeline import pictures
from i2a.training import loop
from i2a import types
from i2a.env_models import CopyModel
from i2a.training import env_model_metadata
from launch import imagine

MINIPACMAN = games.Geometry("minipacman")

@snt.allow_empty_variables
class ShiftModel(snt.Module):
  """A fake model: the next frame is the frame rolled right by `action` pixels; the reward is the action."""

  def __call__(self, frame_stack, action):
    frame = frame_stack[..., -3:]
    rolled = tf.stack([tf.roll(f, a, axis=1) for f, a in zip(tf.unstack(frame), tf.unstack(action))])
    reward = tf.cast(action, tf.float32)
    return types.EnvModelOutput(rolled, reward, reward[:, None])


def test_imagine_runs_one_rollout_per_first_action_with_the_given_later_actions():
  start = np.random.default_rng(0).integers(0, 256, size=(4, 6, 3)).astype(np.uint8)
  frames, rewards = pictures.rollouts_per_action(ShiftModel(), start, num_actions=3, depth=4, later_actions=[2, 0, 1])
  assert frames.shape == (3, 4, 4, 6, 3) and frames.dtype == np.float32 and rewards.shape == (3, 4)
  for first in range(3):
    actions = [first, 2, 0, 1]
    np.testing.assert_array_equal(rewards[first], actions)
    for k in range(4):
      expected = np.roll(start, sum(actions[:k + 1]), axis=1)
      np.testing.assert_array_equal(pictures.to_uint8(frames[first, k]), expected)


def test_imagine_asks_the_policy_for_later_actions_on_the_imagined_frames():
  start = np.arange(2 * 5 * 3, dtype=np.uint8).reshape(2, 5, 3)
  seen = []

  def policy(frames):
    seen.append(pictures.to_uint8(frames.numpy()))
    return np.array([1, 1])

  frames, rewards = pictures.rollouts_per_action(ShiftModel(), start, num_actions=2, depth=3, policy=policy)
  assert len(seen) == 2  # Steps 2 and 3.
  np.testing.assert_array_equal(seen[0][1], np.roll(start, 1, axis=1))  # After first action 1.
  np.testing.assert_array_equal(rewards, [[0, 1, 1], [1, 1, 1]])
  np.testing.assert_array_equal(pictures.to_uint8(frames[0, 2]), np.roll(start, 2, axis=1))


@pytest.mark.parametrize("kwargs,message", [
    pytest.param({}, "exactly one of later_actions and policy", id="neither"),
    pytest.param(dict(later_actions=[0], policy=lambda f: [0]), "exactly one", id="both"),
    pytest.param(dict(later_actions=[0, 1, 2]), "need 1 later actions", id="wrong_length"),
])
def test_imagine_rejects_ambiguous_later_actions(kwargs, message):
  with pytest.raises(ValueError, match=message):
    pictures.rollouts_per_action(ShiftModel(), np.zeros((2, 2, 3), np.uint8), 2, 2, **kwargs)


@pytest.mark.parametrize("height,width,scale", [pytest.param(15, 19, 7, id="minipacman"),
                                                pytest.param(80, 80, 2, id="sokoban"),
                                                pytest.param(200, 300, 1, id="large")])
def test_upscale_factor_makes_small_frames_visible(height, width, scale):
  assert pictures.upscale_factor(height, width) == scale


def test_grid_image_places_nearest_neighbour_enlarged_frames_in_labelled_rows():
  rng = np.random.default_rng(1)
  rows = [rng.integers(0, 256, size=(3, 4, 5, 3)).astype(np.uint8),
          rng.random((2, 4, 5, 3)).astype(np.float32)]
  image = pictures.grid_image(rows, ["real", "up*"], scale=3)
  assert image.size == pictures.grid_size(2, 3, 4, 5, 3) == (44 + 3 * 17 + 2, 2 * 14 + 2)
  pixels = np.asarray(image)
  for r, row in enumerate(rows):
    for c, frame in enumerate(pictures.to_uint8(row)):
      top = pictures.GAP + r * (4 * 3 + pictures.GAP)
      left = pictures.LABEL_WIDTH + pictures.GAP + c * (5 * 3 + pictures.GAP)
      cell = pixels[top:top + 12, left:left + 15]
      np.testing.assert_array_equal(cell, np.repeat(np.repeat(frame, 3, axis=0), 3, axis=1))
  top, left = pictures.GAP + 1 * 14, pictures.LABEL_WIDTH + pictures.GAP + 2 * 17  # Row 1 has no 3rd frame.
  assert (pixels[top:top + 12, left:left + 15] == pictures.BACKGROUND).all()
  assert (pixels[:, :pictures.LABEL_WIDTH] != pictures.BACKGROUND).any()  # The labels are drawn.


def test_gif_and_png_files_have_the_grids_size_and_frames(tmp_path):
  # Constant rows (as a copy model imagines): the GIF keeps every step, told apart by its 't+k' caption.
  rows = [np.zeros((4, 3, 3, 3), np.uint8), np.full((4, 3, 3, 3), 255, np.uint8)]
  png = pictures.save_png(pictures.grid_image(rows, ["a", "b"], 10), str(tmp_path / "x.png"))
  gif = pictures.save_gif(pictures.gif_frames(rows, ["a", "b"], 10), str(tmp_path / "x.gif"), 100)
  with Image.open(png) as image:
    assert image.size == pictures.grid_size(2, 4, 3, 3, 10)
  with Image.open(gif) as image:
    assert image.size == pictures.grid_size(2, 1, 3, 3, 10) and image.n_frames == 4


def test_image_summary_writes_a_png_tensorboard_can_show(tmp_path):
  image = pictures.grid_image([np.zeros((2, 3, 4, 3), np.uint8)], ["real"], 2)
  writer = tf.summary.create_file_writer(str(tmp_path))
  pictures.image_summary(writer, "eval/imagination", image, step=7)
  writer.close()
  values = [(event.step, value) for path in tf.io.gfile.glob(str(tmp_path / "events.*"))
            for event in tf.compat.v1.train.summary_iterator(path) for value in event.summary.value]
  (step, value), = values
  assert step == 7 and value.tag == "eval/imagination"
  assert value.metadata.plugin_data.plugin_name == "images"
  width, height, png = tf.make_ndarray(value.tensor)
  assert (int(width), int(height)) == image.size
  with Image.open(io.BytesIO(png)) as decoded:
    np.testing.assert_array_equal(np.asarray(decoded), np.asarray(image))


def test_write_pictures_draws_the_real_rollout_and_one_row_per_action(tmp_path):
  env = environments.build_env(MINIPACMAN, environments.EnvConfig(), 1, seed=3)
  result = real_vs_imagined.write_pictures(CopyModel(5), env, inference.UniformActions(5, 3), None, depth=3,
                                  out=str(tmp_path), action_names=("stay", "right", "up", "left", "down"),
                                  start_steps=2)
  scale = pictures.upscale_factor(15, 19)
  assert result["size"] == pictures.grid_size(6, 4, 15, 19, scale)
  with Image.open(result["png"]) as png:
    assert png.size == result["size"]
    pixels = np.asarray(png.convert("RGB"))
  with Image.open(result["gif"]) as gif:
    assert gif.n_frames == 4 and gif.size == pictures.grid_size(6, 1, 15, 19, scale)
  record = json.loads((tmp_path / "imagination.json").read_text())
  first = record["real_actions"][0]
  assert record["labels"] == ["real"] + [n + ("*" if a == first else "")
                                        for a, n in enumerate(["stay", "right", "up", "left", "down"])]
  assert record["later_actions"] == record["real_actions"][1:]  # Without an agent: the real actions.
  # Replay by hand: the real frames, and (copy model) the start frame in every imagined cell.
  env = environments.build_env(MINIPACMAN, environments.EnvConfig(), 1, seed=3)
  frames, _, _ = real_vs_imagined.real_rollout(env, inference.UniformActions(5, 3), 2, 3)
  cell_h, cell_w = 15 * scale + pictures.GAP, 19 * scale + pictures.GAP
  for r, c, frame in [(0, 3, frames[3]), (0, 0, frames[0]), (4, 2, frames[0]), (5, 3, frames[0])]:
    top, left = pictures.GAP + r * cell_h, pictures.LABEL_WIDTH + pictures.GAP + c * cell_w
    np.testing.assert_array_equal(pixels[top:top + 15 * scale:scale, left:left + 19 * scale:scale], frame)


def _export_conv_model(path, kind="conv", frame_head="bernoulli"):
  """A (untrained) MiniPacman model exported as launch.train_env_model does: by default the talk-sized
  conv model; kind='learned', frame_head='palette' gives the event model."""
  config = env_model_metadata.agent_config_for(dict(game="minipacman", task="regular", model_kind=kind,
                                     frame_head=frame_head, predict_reward=True))
  model = factory.build_env_model(config)
  model(tf.zeros([1, 15, 19, 3]), tf.zeros([1], tf.int32))
  spec = games.game_spec("minipacman")
  manifest = dict(game="minipacman", env_config={"task": "regular"}, frame_shape=[15, 19, 3], num_actions=5,
                  palette=spec.palette.tolist())
  os.makedirs(path, exist_ok=True)
  checkpointing.save_env_model(model, os.path.join(path, "env_model"))
  export.write_metadata(path, export.model_metadata(kind, manifest, frame_head))
  return model, os.path.join(path, "env_model")


def test_load_model_restores_the_export_and_refuses_another_game(tmp_path):
  model, prefix = _export_conv_model(str(tmp_path))
  loaded = export.load_model(prefix, MINIPACMAN)
  for a, b in zip(model.variables, loaded.variables):
    np.testing.assert_array_equal(a.numpy(), b.numpy())
  with pytest.raises(ValueError, match="game is 'minipacman' but the agent needs 'sokoban'"):
    export.load_model(prefix, games.Geometry("sokoban"))


def test_export_to_a_relative_logdir_loads_by_directory(tmp_path, monkeypatch):
  # The pipeline's flag files name relative logdirs (runs/env_model_sokoban) and launch.train loads the
  # directory; the `checkpoint` index must name the export relative to that directory.
  model, _ = _export_conv_model(str(tmp_path / "scratch"))
  monkeypatch.chdir(tmp_path)
  os.makedirs("runs/model")
  prefix = export.export_model(model, "runs/model", env_model_metadata.load_metadata(str(tmp_path / "scratch")))
  assert prefix == os.path.join("runs/model", "env_model")
  assert tf.train.latest_checkpoint("runs/model") == prefix
  loaded = export.load_model("runs/model", MINIPACMAN)
  for a, b in zip(model.variables, loaded.variables):
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_imagine_binary_writes_a_png_and_a_gif(tmp_path, parse_flags):
  _, prefix = _export_conv_model(str(tmp_path / "model"))
  out = tmp_path / "pictures"
  result = imagine.run_with_flags(parse_flags(
      imagine, "--env=minipacman", f"--env_model_checkpoint={prefix}", f"--out={out}", "--depth=2", "--seed=4"))
  assert result["png"] == str(out / "imagination.png")
  with Image.open(out / "imagination.png") as png:
    assert png.size == pictures.grid_size(6, 3, 15, 19, pictures.upscale_factor(15, 19))
  with Image.open(out / "imagination.gif") as gif:
    assert gif.n_frames == 3


@pytest.mark.parametrize("args,message", [
    pytest.param(["--env=sokoban"], "trained for minipacman", id="other_game"),
    pytest.param([], "--env_model_checkpoint and --output_dir are required", id="no_out"),
])
def test_imagine_binary_refuses_bad_flags(tmp_path, parse_flags, args, message):
  _, prefix = _export_conv_model(str(tmp_path / "model"))
  out = [f"--out={tmp_path}"] if args else []
  with pytest.raises(app.UsageError, match=message):
    imagine.run_with_flags(parse_flags(imagine, f"--env_model_checkpoint={prefix}", *out, *args))


@pytest.mark.parametrize("variant,env_model", [pytest.param("standard", None, id="model_free_agent"),
                                               pytest.param("i2a", "conv", id="i2a_rollout_policy")])
def test_an_agent_from_a_launch_train_checkpoint_chooses_the_actions(tmp_path, variant, env_model):
  config = loop.TrainConfig(
      agent=configs.AgentConfig(game="minipacman", variant=variant, env_model=env_model, hidden_size=8,
                                lstm_size=8, rollout_hidden_size=8, rollout_depth=2,
                                torso=frame_processing.TorsoConfig((4,), (3,), (2,))),
      env=environments.EnvConfig(), logdir=str(tmp_path / "run"), seed=0)
  _, checkpointer = loop.build_learner(config)
  checkpointer.save(1)
  policy, rollout_policy = real_vs_imagined.agent_policies(inference.restore_agent(config.agent, config.logdir).agent, 5)
  assert rollout_policy(tf.zeros([5, 15, 19, 3])).shape == (5,)
  env = environments.build_env(config.geometry, config.env, 1, seed=0)
  result = real_vs_imagined.write_pictures(CopyModel(5), env, policy, rollout_policy, depth=3, out=str(tmp_path / "p"))
  record = json.loads((tmp_path / "p" / "imagination.json").read_text())
  assert record["later_actions"] is None and len(record["real_actions"]) == 3  # The agent's own choices.
  with Image.open(result["png"]) as png:
    assert png.size == pictures.grid_size(6, 4, 15, 19, pictures.upscale_factor(15, 19))


def test_imagine_binary_draws_a_ghost_eaten(tmp_path, parse_flags):
  """--ghost_picture: a window of the scripted hunter's play in which a ghost is eaten, real above and
  imagined below, 2 rows of depth + 1 frames (issue 23's picture), beside the usual pictures."""
  _, prefix = _export_conv_model(str(tmp_path / "model"), kind="learned", frame_head="palette")
  out = tmp_path / "pictures"
  result = imagine.run_with_flags(parse_flags(
      imagine, "--game=minipacman", f"--env_model_checkpoint={prefix}", f"--output_dir={out}", "--depth=2",
      "--seed=0", "--ghost_picture"))
  assert result["ghost_png"] == str(out / "ghost_eaten.png")
  with Image.open(out / "ghost_eaten.png") as png:
    width, height = png.size
  assert width >= 3 * 19 and height >= 2 * 15  # Three frames per row (depth 2), two rows, enlarged.

