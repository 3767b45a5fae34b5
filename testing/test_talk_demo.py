"""launch/talk_demo.py: the notebook's demo episode, its PNG grid and step lines, and its distillation
steps (only the rollout policy moves; seeded)."""
import math
import os
import re

from absl import app
import numpy as np
from PIL import Image
import pytest
import tensorflow as tf

from envs import minipacman
from i2a.model_pipeline import pictures
from launch import talk_demo

LINE = re.compile(
    r"step +(\d+)  action (\d) \((\w+) *\)  reward +([-+]\d+\.\d)  distillation loss (\d+\.\d+)$")


@pytest.fixture(name="parse")
def _parse_fixture(parse_flags):
  return lambda *args: parse_flags(talk_demo, *args)


def _replay(seed, frame_cap, actions):
  """The episode re-played from the recorded actions: frames uint8 [T + 1, ...], rewards, last step."""
  env = minipacman.MiniPacman(task="regular", seed=seed, frame_cap=frame_cap)
  timestep = env.reset()
  frames, rewards = [timestep.observation["rgb"]], []
  for action in actions:
    assert not timestep.last()
    timestep = env.step(action)
    frames.append(timestep.observation["rgb"])
    rewards.append(float(timestep.reward))
  return np.stack(frames), rewards, timestep


@pytest.mark.parametrize("env_model", ["copy", "conv"])
def test_demo_writes_the_frames_grid_and_one_line_per_step(tmp_path, env_model, parse):
  seed, frame_cap = 3, 12
  result = talk_demo.run_with_flags(parse(f"--out={tmp_path}", f"--seed={seed}", f"--env_model={env_model}",
                                           f"--frame_cap={frame_cap}"))
  assert result["num_parameters"] == 910_987  # The same for both models: the env model is frozen.
  assert sorted(os.listdir(tmp_path)) == ["talk_demo.png", "talk_demo.txt"]  # The imagined PNG: trained only.
  with open(result["text"]) as f:
    header, *lines = f.read().splitlines()
  assert header.startswith(f"# seed {seed}, env model {env_model}, 910987 trainable parameters")
  parsed = [LINE.match(line) for line in lines]
  assert all(parsed), lines
  assert [int(m.group(1)) for m in parsed] == list(range(1, len(lines) + 1))
  actions = [int(m.group(2)) for m in parsed]
  assert [m.group(3) for m in parsed] == [minipacman.ACTION_NAMES[a] for a in actions]
  losses = np.array([float(m.group(5)) for m in parsed])
  assert np.all(np.isfinite(losses)) and np.all(losses > 0)

  # The recorded actions replay the same episode: same rewards, and it ends where the demo stopped.
  frames, rewards, last = _replay(seed, frame_cap, actions)
  assert last.last() and (len(actions) == frame_cap or last.discount == 0.0)
  np.testing.assert_allclose([float(m.group(4)) for m in parsed], rewards)
  assert result["num_frames"] == len(actions) + 1

  # The PNG holds every observed frame, 10 per row, pixel for pixel.
  scale = pictures.upscale_factor(15, 19)
  rows = math.ceil(len(frames) / talk_demo.FRAMES_PER_ROW)
  image = Image.open(result["png"])
  assert image.size == pictures.grid_size(rows, talk_demo.FRAMES_PER_ROW, 15, 19, scale)
  pixels = np.asarray(image.convert("RGB"))
  np.testing.assert_array_equal(pixels, np.asarray(talk_demo.frame_grid(frames)))
  for i in range(len(frames)):  # Frame i in row i // 10, column i % 10, enlarged `scale` times.
    top = pictures.GAP + (i // 10) * (15 * scale + pictures.GAP)
    left = pictures.LABEL_WIDTH + pictures.GAP + (i % 10) * (19 * scale + pictures.GAP)
    np.testing.assert_array_equal(pixels[top:top + 15 * scale:scale, left:left + 19 * scale:scale], frames[i])


def test_distillation_moves_only_the_rollout_policy_and_is_seeded():
  agent, optimizer = talk_demo.build(seed=1, env_model="conv")
  policy = {v.ref() for v in agent.rollout_policy.trainable_variables}
  variables = agent.trainable_variables + agent.frozen_variables
  before = [v.numpy().copy() for v in variables]

  # The first step's loss, computed eagerly on a twin agent (same seed, so same weights and samplers).
  twin, _ = talk_demo.build(seed=1, env_model="conv")
  env = minipacman.MiniPacman(task="regular", seed=1, frame_cap=4)
  frame = tf.constant(env.reset().observation["rgb"][np.newaxis], tf.float32) / 255.0
  (_, policy_logits, _), _ = twin(frame, twin.initial_state())
  _, rollout_logits = twin.rollout_policy(frame)
  labels = tf.nn.softmax(policy_logits).numpy()[0]
  expected_loss = -np.sum(labels * tf.nn.log_softmax(rollout_logits).numpy()[0])

  frames, steps, _ = talk_demo.play(agent, optimizer, seed=1, frame_cap=4)
  assert len(steps) == len(frames) - 1 <= 4
  np.testing.assert_allclose(steps[0].distillation_loss, expected_loss, rtol=1e-5)
  for variable, old in zip(variables, before):
    moved = not np.array_equal(variable.numpy(), old)
    assert moved == (variable.ref() in policy), variable.name
  for variable, ms in zip(agent.trainable_variables, optimizer.ms):  # No update reached the others.
    assert np.all(ms.numpy() == 1.0) == (variable.ref() not in policy), variable.name

  again = talk_demo.play(*talk_demo.build(seed=1, env_model="conv"), seed=1, frame_cap=4).steps
  assert [(s.action, s.reward) for s in again] == [(s.action, s.reward) for s in steps]
  np.testing.assert_allclose([s.distillation_loss for s in again], [s.distillation_loss for s in steps],
                             rtol=1e-6)


def test_missing_out_is_a_usage_error(parse):
  with pytest.raises(app.UsageError, match="--output_dir is required"):
    talk_demo.run_with_flags(parse())
