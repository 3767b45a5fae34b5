"""Tests of the paper's environment models (Sokoban, MiniPacman), their frame heads and their loss."""
import numpy as np
import pytest
import sonnet as snt
import tensorflow as tf

from i2a.env_models import frame_heads
from i2a.env_models import model_losses
from i2a.env_models.minipacman_model import MiniPacmanEnvModel
from i2a.env_models.sokoban_model import SokobanEnvModel

PALETTE = np.array([[0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0],
                    [0, 255, 255]], np.uint8)  # MiniPacman's 7 colours; a stand-in palette for Sokoban.
TINY_PACMAN = dict(stem_channels=8, blocks=((4, 4, 8), (4, 4, 8)), event_channels=8)
# name -> (constructor, frame height, width, stack size). Small sizes keep the suite fast.
CASES = {
    "sokoban_palette": (
        lambda: SokobanEnvModel(palette=PALETTE, channels=16, pixels_per_cell=4), 24, 32, 1),
    "sokoban_bernoulli": (lambda: SokobanEnvModel(frame_head="bernoulli", channels=16, num_trunk_layers=3,
                                                  pixels_per_cell=4), 24, 32, 2),
    "sokoban_frames_only": (lambda: SokobanEnvModel(palette=PALETTE, channels=16, predict_reward=False,
                                                    pixels_per_cell=4), 24, 32, 1),
    "minipacman_palette": (lambda: MiniPacmanEnvModel(palette=PALETTE, **TINY_PACMAN), 15, 19, 1),
    "minipacman_bernoulli_concat": (lambda: MiniPacmanEnvModel(
        frame_head="bernoulli", merge="concat", stem_channels=8, blocks=((4, 4, 6), (4, 4, 6))), 15, 19, 4),
}


def _make(case, batch, seed=0):
  """A freshly initialised model of `case` and seeded inputs (frame stack of palette colours, actions)."""
  constructor, height, width, stack = CASES[case]
  tf.random.set_seed(seed)
  model = constructor()
  rng = np.random.RandomState(seed)
  frames = _cell_frames(case, rng, (batch, height, width, stack))
  action = tf.constant(rng.randint(5, size=batch), tf.int32)
  return model, tf.constant(frames.reshape(batch, height, width, 3 * stack)), action


def _cell_frames(case, rng, shape):
  """float32 shape + [3] random palette colours, constant over each grid cell (4x4 pixels in Sokoban)."""
  cell = 4 if case.startswith("sokoban") else 1
  index = rng.randint(len(PALETTE), size=(shape[0], shape[1] // cell, shape[2] // cell) + shape[3:])
  index = index.repeat(cell, axis=1).repeat(cell, axis=2)
  return PALETTE[index].astype(np.float32) / 255


def _sigmoid_ce(x, z):
  return np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x)))


def _softmax_ce(logits, labels):
  shifted = logits - logits.max(-1, keepdims=True)
  log_probs = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
  return -np.take_along_axis(log_probs, labels[..., None], axis=-1)[..., 0]


def _nearest_palette(frame, palette):
  return np.argmin(((frame[..., None, :] - palette) ** 2).sum(-1), axis=-1)


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("case", sorted(CASES))
def test_output_shapes_and_dtypes(case, batch):
  model, frame_stack, action = _make(case, batch)
  height, width = CASES[case][1:3]
  out = model(frame_stack, action)
  logits = model.logits(frame_stack, action)
  bins = 5 if case.startswith("minipacman") else 4
  assert out.frame.shape == (batch, height, width, 3) and out.frame.dtype == tf.float32
  assert out.reward.shape == (batch,) and out.reward.dtype == tf.float32
  assert out.reward_bins.shape == (batch, bins) and out.reward_bins.dtype == tf.float32
  assert logits.frame_logits.shape == (batch, height, width, 3 if "bernoulli" in case else len(PALETTE))
  if case == "sokoban_frames_only":
    assert logits.reward_logits is None
    np.testing.assert_array_equal(out.reward, 0.0)
    np.testing.assert_array_equal(out.reward_bins, 0.0)
  else:
    assert logits.reward_logits.shape == (batch, bins)


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("name,model,height,width,num_params", [
    # encoder 8*8*8*128+128, trunk 2*(9*128*128+128), decoder 64*128*7+7, reward conv 9*128*32+32,
    # reward hidden 10*10*32*64+64, reward logits 64*4+4.
    ("sokoban", lambda: SokobanEnvModel(palette=PALETTE), 80, 80, 660203),
    # stem 8*64+64; 2 blocks of 128*16+16, 81*16*16+16, 128*32+32, 9*32*32+32, 48*64+64; frame 64*7+7;
    # events 2*(64*64+64), 15*19*64*5+5.
    ("minipacman", lambda: MiniPacmanEnvModel(palette=PALETTE), 15, 19, 179212),
])
def test_default_models_shapes_and_parameter_count(name, model, height, width, num_params, batch):
  del name
  model = model()
  out = model(tf.zeros([batch, height, width, 3]), tf.zeros([batch], tf.int32))
  assert out.frame.shape == (batch, height, width, 3)
  assert sum(int(np.prod(v.shape)) for v in model.trainable_variables) == num_params


@pytest.mark.parametrize("case", sorted(CASES))
def test_eager_function_xla_and_unknown_batch_agree(case):
  model, frame_stack, action = _make(case, batch=3)
  spec = [tf.TensorSpec([None] + frame_stack.shape[1:].as_list(), tf.float32),
          tf.TensorSpec([None], tf.int32)]
  both = lambda f, a: (model(f, a), model.logits(f, a))
  runs = {"eager": both, "function": tf.function(both), "xla": tf.function(both, jit_compile=True),
          "unknown_batch": tf.function(both, input_signature=spec),
          "unknown_batch_xla": tf.function(both, input_signature=spec, jit_compile=True)}
  results = {mode: run(frame_stack, action) for mode, run in runs.items()}
  (want, want_logits) = results.pop("eager")
  for mode, (out, logits) in results.items():
    np.testing.assert_allclose(logits.frame_logits, want_logits.frame_logits, atol=1e-4, err_msg=mode)
    np.testing.assert_allclose(out.reward, want.reward, atol=1e-4, err_msg=mode)
    np.testing.assert_allclose(out.reward_bins, want.reward_bins, atol=1e-5, err_msg=mode)
    # Palette frames are an argmax: allow a rare flip of a near-tie between XLA and eager rounding.
    pixel_wrong = np.abs(out.frame.numpy() - want.frame.numpy()).max(-1) > 1e-5
    assert pixel_wrong.mean() < 0.01, mode


@pytest.mark.parametrize("case", sorted(CASES))
def test_rollout_frame_from_logits(case):
  model, frame_stack, action = _make(case, batch=2)
  out, logits = model(frame_stack, action), model.logits(frame_stack, action).frame_logits.numpy()
  if "bernoulli" in case:
    np.testing.assert_allclose(out.frame, 1 / (1 + np.exp(-logits)), rtol=1e-5, atol=1e-6)
  else:  # Exactly palette colours: palette[argmax].
    np.testing.assert_array_equal(out.frame, PALETTE[logits.argmax(-1)].astype(np.float32) / 255)


@pytest.mark.parametrize("case", sorted(CASES))
def test_only_last_frame_and_action_matter(case):
  model, frame_stack, action = _make(case, batch=2)
  stack = frame_stack.numpy()
  stack[..., :-3] = 1.0 - stack[..., :-3]  # Changing older frames changes nothing (order-1 model).
  np.testing.assert_array_equal(model.logits(stack, action).frame_logits,
                                model.logits(frame_stack, action).frame_logits)
  other = model.logits(frame_stack, (action + 1) % 5).frame_logits
  assert np.abs(other - model.logits(frame_stack, action).frame_logits).max() > 1e-4


def test_sokoban_reward_is_expected_bin_value():
  model, frame_stack, action = _make("sokoban_palette", batch=3)
  out, reward_logits = model(frame_stack, action), model.logits(frame_stack, action).reward_logits.numpy()
  probs = np.exp(reward_logits) / np.exp(reward_logits).sum(-1, keepdims=True)
  np.testing.assert_allclose(out.reward_bins, probs, rtol=1e-5)
  np.testing.assert_allclose(out.reward, probs @ np.array([-1.1, -0.1, 0.9, 10.9]), rtol=1e-5, atol=1e-6)


def test_minipacman_reward_is_weighted_events_and_weights_change_without_retraining():
  model, frame_stack, action = _make("minipacman_palette", batch=3)
  event_logits = model.logits(frame_stack, action).reward_logits.numpy()
  probs = 1 / (1 + np.exp(-event_logits))
  regular = model(frame_stack, action)
  np.testing.assert_allclose(regular.reward_bins, probs, rtol=1e-5)
  np.testing.assert_allclose(regular.reward, probs @ np.array([0, 1, 2, 5, 0]), rtol=1e-5)
  hunt_weights = np.array([0, 0, 1, 10, -20], np.float32)
  hunt = model.with_event_weights(hunt_weights)
  assert [id(v) for v in hunt.trainable_variables] == [id(v) for v in model.trainable_variables]
  hunt_out = hunt(frame_stack, action)
  np.testing.assert_allclose(hunt_out.reward, probs @ hunt_weights, rtol=1e-5, atol=1e-6)
  np.testing.assert_array_equal(hunt_out.frame, regular.frame)
  np.testing.assert_array_equal(model(frame_stack, action).reward, regular.reward)  # Original unchanged.
  np.testing.assert_array_equal(model.event_weights, [0, 1, 2, 5, 0])


def test_palette_indices_nearest_colour_including_fading_ghosts():
  frame = np.array([[[1, 0.35, 0], [1, 0.65, 0], [0.1, 0.9, 0.05], [0.5, 0.5, 0.45]]], np.float32)
  np.testing.assert_array_equal(frame_heads.palette_indices(frame, PALETTE), [[2, 5, 3, 0]])
  random = np.random.RandomState(1).rand(4, 6, 5, 3).astype(np.float32)
  np.testing.assert_array_equal(frame_heads.palette_indices(random, PALETTE),
                                _nearest_palette(random, PALETTE / 255.0))
  np.testing.assert_array_equal(frame_heads.palette_indices(random, PALETTE / 255.0),
                                frame_heads.palette_indices(random, PALETTE))


@pytest.mark.parametrize("case", ["sokoban_palette", "sokoban_bernoulli", "sokoban_frames_only",
                                  "minipacman_palette"])
def test_loss_matches_numpy_reference(case):
  model, frame_stack, action = _make(case, batch=3)
  rng = np.random.RandomState(2)
  target = rng.rand(3, *frame_stack.shape[1:3], 3).astype(np.float32)
  is_pacman = case.startswith("minipacman")
  reward_target = (rng.rand(3, 5) < 0.5).astype(np.float32) if is_pacman else np.float32([0.85, -1.0, 11])
  logits = model.logits(frame_stack, action)
  out = model_losses.env_model_loss(
      logits, target, reward_target, frame_head=model.frame_head,
      reward_bins=None if is_pacman else model.reward_bins, reward_weight=0.5)
  frame_logits = logits.frame_logits.numpy()
  if "bernoulli" in case:
    want_frame = _sigmoid_ce(frame_logits, target).sum(axis=(1, 2, 3))
  else:
    want_frame = _softmax_ce(frame_logits, _nearest_palette(target, PALETTE / 255.0)).sum(axis=(1, 2))
  if is_pacman:
    want_reward = _sigmoid_ce(logits.reward_logits.numpy(), reward_target).sum(-1)
  elif logits.reward_logits is None:
    want_reward = np.zeros(3)
  else:  # Nearest bins of 0.85, -1.0, 11 are 0.9, -1.1, 10.9.
    want_reward = _softmax_ce(logits.reward_logits.numpy(), np.array([2, 0, 3]))
  np.testing.assert_allclose(out.extra[0], want_frame, rtol=1e-4)
  np.testing.assert_allclose(out.extra[1], want_reward, rtol=1e-4, atol=1e-6)
  np.testing.assert_allclose(out.loss, want_frame + 0.5 * want_reward, rtol=1e-4)


def test_frame_error_rate_against_numpy():
  rng = np.random.RandomState(3)
  target = rng.rand(2, 5, 7, 3).astype(np.float32)
  pred = target + rng.choice([0.0, 0.05, -0.2], size=target.shape).astype(np.float32)
  want = (np.abs(pred - target).max(-1) > 0.1).mean(axis=(1, 2))
  np.testing.assert_allclose(model_losses.frame_error_rate(pred, target), want, rtol=1e-6)
  np.testing.assert_array_equal(model_losses.frame_error_rate(target, target), [0.0, 0.0])


def _loss_fn(case, model):
  head, is_pacman = model.frame_head, case.startswith("minipacman")
  bins = None if is_pacman else model.reward_bins
  return lambda logits, frame, reward: model_losses.env_model_loss(
      logits, frame, reward, frame_head=head, reward_bins=bins).loss


def _targets(case, frame_stack, seed=4):
  """A learnable next frame (the last frame shifted right by one grid cell) and random rewards/events."""
  rng = np.random.RandomState(seed)
  frame = np.roll(frame_stack.numpy()[..., -3:], 4 if case.startswith("sokoban") else 1, axis=2)
  if case.startswith("minipacman"):
    return frame, (rng.rand(frame.shape[0], 5) < 0.3).astype(np.float32)
  return frame, np.float32([-0.1, 0.9, 10.9, -1.1])[rng.randint(4, size=frame.shape[0])]


@pytest.mark.parametrize("case", sorted(CASES))
def test_gradients_reach_every_variable(case):
  model, frame_stack, action = _make(case, batch=4)
  frame, reward = _targets(case, frame_stack)
  with tf.GradientTape() as tape:
    loss = tf.reduce_mean(_loss_fn(case, model)(model.logits(frame_stack, action), frame, reward))
  grads = tape.gradient(loss, model.trainable_variables)
  assert model.trainable_variables
  for var, grad in zip(model.trainable_variables, grads):
    assert grad is not None and np.abs(grad.numpy()).max() > 0, var.name


@pytest.mark.parametrize("case", ["sokoban_palette", "sokoban_bernoulli", "minipacman_palette",
                                  "minipacman_bernoulli_concat"])
def test_tiny_model_overfits_one_batch(case):
  model, frame_stack, action = _make(case, batch=4)
  frame, reward = _targets(case, frame_stack)
  loss_fn, optimizer = _loss_fn(case, model), snt.optimizers.Adam(1e-2)

  @tf.function
  def step():
    with tf.GradientTape() as tape:
      loss = tf.reduce_mean(loss_fn(model.logits(frame_stack, action), frame, reward))
    optimizer.apply(tape.gradient(loss, model.trainable_variables), model.trainable_variables)
    return loss

  losses = [float(step()) for _ in range(400)]
  # After 100 steps the ratio was 0.007 - 0.32 over 12 seeds of minipacman_bernoulli_concat, and after
  # 200 steps minipacman_palette was still at 0.39 (and falling) under one shifted seed
  # (--seed_offset=1 --shift_explicit_seeds); 400 steps pass every seed tried (0-21). Adam's occasional
  # spikes are smoothed by the best of the last 10 steps.
  assert min(losses[-10:]) < 0.1 * losses[0], (losses[0], losses[-10:])


@pytest.mark.parametrize("case", sorted(CASES))
def test_checkpoint_round_trip(case, tmp_path):
  model, frame_stack, action = _make(case, batch=2, seed=0)
  want, want_logits = model(frame_stack, action), model.logits(frame_stack, action).frame_logits
  path = tf.train.Checkpoint(model=model).write(str(tmp_path / "ckpt"))
  restored, _, _ = _make(case, batch=2, seed=1)
  assert np.abs(restored.logits(frame_stack, action).frame_logits - want_logits).max() > 1e-3
  tf.train.Checkpoint(model=restored).read(path).assert_consumed()
  np.testing.assert_array_equal(restored.logits(frame_stack, action).frame_logits, want_logits)
  for got, expected in zip(restored(frame_stack, action), want):
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("name,build,match", [
    ("unknown_head", lambda: SokobanEnvModel(frame_head="gaussian"), "frame_head must be one of"),
    ("palette_missing", lambda: SokobanEnvModel(), "needs a palette"),
    ("palette_shape", lambda: SokobanEnvModel(palette=np.zeros((4, 4), np.uint8)), r"shape \[P, 3\]"),
    ("palette_range", lambda: SokobanEnvModel(palette=PALETTE * 2.0), r"in \[0, 1\]"),
    ("unsorted_bins", lambda: SokobanEnvModel(palette=PALETTE, reward_bins=(1, 0)), "strictly increasing"),
    ("event_weights", lambda: MiniPacmanEnvModel(palette=PALETTE, event_weights=(1, 2)), "5 finite"),
    ("merge", lambda: MiniPacmanEnvModel(palette=PALETTE, merge="mul"), "merge must be one of"),
    ("add_width", lambda: MiniPacmanEnvModel(palette=PALETTE, blocks=((4, 4, 8),)), "n3 == stem"),
])
def test_bad_configuration_raises(name, build, match):
  del name
  with pytest.raises(ValueError, match=match):
    build()


@pytest.mark.parametrize("name,shape,match", [
    ("not_multiple_of_cell", (1, 30, 32, 3), "multiples of pixels_per_cell"),
    ("stack_channels", (1, 24, 32, 4), r"\[B, H, W, 3 \* S\]"),
])
def test_bad_input_raises(name, shape, match):
  del name
  model = SokobanEnvModel(palette=PALETTE, channels=4, pixels_per_cell=4)
  with pytest.raises(ValueError, match=match):
    model(tf.zeros(shape), tf.zeros([1], tf.int32))
