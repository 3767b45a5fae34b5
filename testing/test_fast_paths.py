"""The profile-driven speed-ups compute exactly what the code they replaced computed: the rollout
encoder's unstacked steps (i2a/imag_path.py) and the palette-key compaction (i2a/imagined.py)."""
import numpy as np
import pytest
import tensorflow as tf

from i2a import imagined as imagined_lib
from i2a.training import learner as learner_lib
from testing import test_imagination_reuse
from testing import test_learner


def _sliced(path):
  """The replaced per-depth split: one strided slice per imagined step."""
  return lambda inputs: [inputs[:, :, depth] for depth in range(path.rollout_depth)]


@pytest.mark.parametrize("precision,reuse", [("float32", True), ("bfloat16", True), ("bfloat16", False)],
                         ids=["float32-reuse", "bfloat16-reuse", "bfloat16-recompute"])
def test_unstacked_encoder_gives_the_sliced_encoders_loss_and_gradients(precision, reuse):
  agents = {name: test_imagination_reuse.tiny_palette_agent(precision, seed=4) for name in ("new", "old")}
  agents["old"].imag_path._per_depth = _sliced(agents["old"].imag_path)  # pylint: disable=protected-access
  learners = {name: learner_lib.Learner(agent, learner_lib.LearnerConfig(reuse_imagination=reuse))
              for name, agent in agents.items()}
  learners["old"].set_weights(learners["new"].get_weights())
  traj = test_learner.trajectory(stack_size=2, seed=5)
  if reuse:  # Random imagined rollouts, as an actor would ship them.
    rng = np.random.default_rng(6)
    shape = traj.step_type.shape + (5, agents["new"].imag_path.rollout_depth)
    traj = traj._replace(imagination=imagined_lib.CompactImagination(
        frame_index=rng.integers(0, len(imagined_lib.palette_of(agents["new"])), shape + (15, 19), dtype=np.uint8),
        reward=rng.normal(size=shape).astype(np.float32), action=rng.integers(0, 5, shape, dtype=np.uint8)))
  logs = {name: learner.step(traj) for name, learner in learners.items()}
  for name in ("loss", "pg_loss", "baseline_loss", "entropy_loss", "distillation_loss", "grad_norm"):
    np.testing.assert_array_equal(logs["new"][name], logs["old"][name], err_msg=name)
  assert logs["new"]["grad_norm"] > 0
  # One RMSprop step from equal weights and slots: equal weights after it mean equal gradients.
  for a, b in zip(learners["new"].variables(), learners["old"].variables()):
    np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.name)


def _palette_frames(palette, seed):
  rng = np.random.default_rng(seed)
  index = rng.integers(0, len(palette), (3, 5, 2, 15, 19))
  return index, imagined_lib.Imagination(tf.constant(palette[index]), tf.zeros([3, 5, 2]),
                                        tf.zeros([3, 5, 2], tf.int32))


@pytest.mark.parametrize("seed", [0, 1])
def test_palette_key_compaction_matches_the_nearest_colour_search(seed):
  palette = imagined_lib.palette_of(test_imagination_reuse.tiny_palette_agent("float32"))
  index, imagined = _palette_frames(palette, seed)
  compacted = imagined_lib.compact(imagined, palette).frame_index.numpy()
  assert compacted.dtype == np.uint8
  np.testing.assert_array_equal(compacted, index)
  np.testing.assert_array_equal(
      compacted, imagined_lib.nearest_palette_index(imagined.frames, palette).numpy().astype(np.uint8))
  # Inside a tf.function, as the actors run it.
  in_graph = tf.function(lambda frames: imagined_lib.compact(imagined._replace(frames=frames), palette))
  np.testing.assert_array_equal(in_graph(imagined.frames).frame_index.numpy(), index)


def test_palettes_off_the_255_grid_use_the_nearest_colour_search():
  palette = np.array([[0.0, 0.0, 0.0], [0.5, 0.5, 0.5], [1.0, 0.2, 0.3]], np.float32)  # 0.5 * 255 is no integer.
  index, imagined = _palette_frames(palette, 2)
  np.testing.assert_array_equal(imagined_lib.compact(imagined, palette).frame_index.numpy(), index)
