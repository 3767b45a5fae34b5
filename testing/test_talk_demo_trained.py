"""launch/talk_demo.py with the shipped MiniPacman environment model (models/minipacman/env_model): the
talk's demo agent imagines with the trained model, frozen, and sees what a CopyModel cannot show: Pacman
moving where the real game moves him."""
import os
import subprocess
import sys

from absl import app
import numpy as np
from PIL import Image
import pytest
import tensorflow as tf

from envs import minipacman
from i2a import factory
from i2a.model_pipeline import pictures
from i2a.training import checkpointing
from i2a.training import env_model_metadata
from launch import talk_demo

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHIPPED = "models/minipacman/env_model/env_model"  # Relative to the repository, as MODELS.md gives it.
PACMAN = (0, 255, 0)  # envs/minipacman's colour of Pacman.


@pytest.fixture(name="parse")
def _parse_fixture(parse_flags, monkeypatch):
  monkeypatch.chdir(REPO)
  return lambda *args: parse_flags(talk_demo, *args)


def _shipped_model():
  """The shipped model, loaded on its own: the reference the demo agent's imagination must match."""
  model = factory.build_env_model(env_model_metadata.agent_config_for(
      env_model_metadata.load_metadata(os.path.join(REPO, SHIPPED))))
  model(tf.zeros([1, 15, 19, 3]), tf.zeros([1], tf.int32))
  checkpointing.load_env_model(model, os.path.join(REPO, SHIPPED))
  return model


def _pacman(frame: np.ndarray) -> list:
  """Pacman's cells, [[row, column], ...], in a uint8 [15, 19, 3] frame."""
  return np.argwhere(np.all(frame == PACMAN, axis=-1)).tolist()


def test_the_demo_imagines_with_the_shipped_model_frozen(tmp_path, parse):
  seed, frame_cap = 2, 4
  result = talk_demo.run_with_flags(parse(f"--output_dir={tmp_path}", f"--seed={seed}",
                                           f"--frame_cap={frame_cap}", f"--env_model_checkpoint={SHIPPED}"))
  assert result["num_parameters"] == 910_987  # The talk's agent; the trained model is frozen, not counted.
  with open(result["text"]) as f:
    header = f.readline().rstrip("\n")
  assert header == f"# seed {seed}, env model learned, 910987 trainable parameters, checkpoint {SHIPPED}"
  episode = result["episode"]
  assert len(episode.steps) == len(result["lines"]) and 1 <= len(episode.steps) <= frame_cap

  imagination = episode.first_imagination
  assert imagination.frames.dtype == tf.float32 and imagination.frames.shape == (1, 5, 3, 15, 19, 3)
  assert imagination.rewards.shape == (1, 5, 3) and imagination.actions.dtype == tf.int32
  np.testing.assert_array_equal(imagination.actions.numpy()[0, :, 0], np.arange(5))  # Paper Sec. 3.1.

  # Step 1 of every rollout is the shipped model's own prediction from the real first frame: the agent
  # imagines with the trained weights.
  model = _shipped_model()
  first = episode.frames[0]
  expected = model(tf.repeat(tf.constant(first[np.newaxis], tf.float32) / 255.0, 5, axis=0), tf.range(5))
  np.testing.assert_allclose(imagination.frames.numpy()[0, :, 0], expected.frame.numpy(), atol=1e-6)
  np.testing.assert_allclose(imagination.rewards.numpy()[0, :, 0], expected.reward.numpy(), atol=1e-6)

  # The PNG: the real frames, then per first action the first frame and its 3 imagined frames.
  image = np.asarray(Image.open(result["imagined_png"]).convert("RGB"))
  scale = pictures.upscale_factor(15, 19)
  assert (image.shape[1], image.shape[0]) == pictures.grid_size(6, 4, 15, 19, scale)
  np.testing.assert_array_equal(image, np.asarray(talk_demo.imagined_grid(episode)))
  for row in range(6):
    for column in range(4):
      top = pictures.GAP + row * (15 * scale + pictures.GAP)
      left = pictures.LABEL_WIDTH + pictures.GAP + column * (19 * scale + pictures.GAP)
      cell = image[top:top + 15 * scale:scale, left:left + 19 * scale:scale]
      if row == 0 and column < len(episode.frames):
        np.testing.assert_array_equal(cell, episode.frames[column])
      elif row and column == 0:
        np.testing.assert_array_equal(cell, first)
      elif row:
        np.testing.assert_array_equal(cell, pictures.to_uint8(imagination.frames.numpy()[0, row - 1, column - 1]))


@pytest.mark.parametrize("seed", [0, 5])
def test_the_trained_model_moves_pacman_as_the_game_does_where_the_copy_model_copies(seed):
  agent, optimizer = talk_demo.build(seed, "learned", os.path.join(REPO, SHIPPED))
  learned = talk_demo.play(agent, optimizer, seed, frame_cap=2)
  # Frozen (paper Sec. 3.2): after the distillation steps the model still holds the shipped weights.
  reference = tf.Module.variables.fget(_shipped_model())
  assert len(agent.frozen_variables) == len(reference) > 0
  for mine, theirs in zip(agent.frozen_variables, reference):
    np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
  copied = talk_demo.play(*talk_demo.build(seed, "copy"), seed, frame_cap=2)
  first = learned.frames[0]
  np.testing.assert_array_equal(copied.frames[0], first)

  # The CopyModel imagines the first frame at every step of every rollout, with zero reward.
  copy_frames = copied.first_imagination.frames.numpy()
  np.testing.assert_array_equal(copy_frames, np.broadcast_to(first / np.float32(255.0), copy_frames.shape))
  assert not np.any(copied.first_imagination.rewards.numpy())

  # The trained model puts Pacman where the real game puts him after each first action.
  imagined = pictures.to_uint8(learned.first_imagination.frames.numpy()[0, :, 0])
  moved = 0
  for action in range(5):
    env = minipacman.MiniPacman(task="regular", seed=seed, frame_cap=2)
    env.reset()
    real = env.step(action).observation["rgb"]
    assert _pacman(imagined[action]) == _pacman(real), minipacman.ACTION_NAMES[action]
    moved += _pacman(real) != _pacman(first)
  assert moved >= 1  # So the copy model's rollouts are wrong where the trained model's are right.


def test_a_wrong_model_or_flag_is_a_usage_error(tmp_path, parse):
  out = f"--output_dir={tmp_path}"
  for args, message in [
      (["--env_model_checkpoint=models/none/env_model"], "No environment-model metadata"),
      (["--env_model_checkpoint=models/sokoban_small/env_model/env_model"], "game is 'sokoban'"),
      ([f"--env_model_checkpoint={SHIPPED}", "--env_model=conv"], "leave --env_model unset"),
      (["--env_model=learned"], "needs --env_model_checkpoint"),
  ]:
    with pytest.raises(app.UsageError, match=message):
      talk_demo.run_with_flags(parse(out, *args))
  assert not os.listdir(tmp_path)  # Refused before anything was written.
  with pytest.raises(ValueError, match="only with it"):
    talk_demo.build(0, "copy", os.path.join(REPO, SHIPPED))


def test_the_binary_ends_a_sokoban_model_with_one_line(tmp_path):
  done = subprocess.run(
      [sys.executable, "-m", "launch.talk_demo", f"--output_dir={tmp_path}",
       "--env_model_checkpoint=models/sokoban_small/env_model/env_model"],
      cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
  assert done.returncode == 1
  last = done.stderr.strip().splitlines()[-1]
  assert last.startswith("talk_demo.py: error: The environment model") and "game is 'sokoban'" in last
  assert "Traceback" not in done.stderr
