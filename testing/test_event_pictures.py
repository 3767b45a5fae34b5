"""i2a/model_pipeline/event_pictures.py: the window found holds the event where asked and is what the
environment played; the picture draws real and imagined rows with their events (issue 23)."""
import numpy as np
import pytest
import tensorflow as tf

from i2a import games
from i2a import types
from i2a.model_pipeline import event_pictures
from i2a.model_pipeline import hunter
from i2a.training import environments

GHOST = 3


class CopyWithEvents(tf.Module):
  """A fake model: the next frame is the frame; the events' probabilities are fixed."""

  def __init__(self, probs):
    super().__init__()
    self._probs = tf.constant(probs, tf.float32)

  def __call__(self, frame_stack, action):
    batch = tf.shape(frame_stack)[0]
    return types.EnvModelOutput(frame_stack, tf.zeros([batch]), tf.tile(self._probs[None], [batch, 1]))


def _env(seed):
  return environments.build_env(games.Geometry("minipacman"), environments.EnvConfig(), 1, seed=seed)


@pytest.mark.parametrize("position", [0, 2, 4])
def test_the_window_holds_a_ghost_eaten_at_the_asked_step_within_one_episode(position):
  window = event_pictures.find_event_window(_env(7), hunter.GhostHunter(7), "ate_ghost", depth=5,
                                            position=position)
  assert window.frames.shape == (6, 15, 19, 3) and window.actions.shape == (5,) and window.events.shape == (5, 5)
  assert window.frames.dtype == np.uint8 and window.actions.dtype == np.int32
  assert window.events[position, GHOST] == 1.0
  assert (window.events[:, 0] == 1.0).all()  # 'step' fires on every step of an episode, never across two.
  # While the ghost is edible it is drawn (255, g > 0, 0) in the frame before it is eaten.
  before = window.frames[position]
  assert ((before[..., 0] == 255) & (before[..., 1] > 0) & (before[..., 1] < 255) | (
      (before[..., 0] == 255) & (before[..., 1] == 255) & (before[..., 2] == 0))).any()


def test_no_event_within_the_budget_is_a_clear_error():
  with pytest.raises(ValueError, match="No 'ate_ghost' within 30 steps"):
    stay = lambda timestep: np.zeros(1, np.int32)  # Never eats a pill, so never a ghost.
    event_pictures.find_event_window(_env(1), stay, "ate_ghost", depth=5, max_steps=30)


def test_the_picture_has_two_rows_of_depth_plus_one_frames_and_labels_the_events():
  window = event_pictures.find_event_window(_env(7), hunter.GhostHunter(7), "ate_ghost", depth=3)
  model = CopyWithEvents([1.0, 0.9, 0.0, 0.7, 0.2])
  image = event_pictures.event_picture(model, window, scale=4)
  assert image.size == (70 + 4 * (19 * 4 + 4), 2 * (15 * 4 + 52) + 14)
  real_second = np.asarray(image)[14:14 + 60, 70 + 80:70 + 80 + 76]  # Real frame 1, upscaled 4x.
  np.testing.assert_array_equal(real_second[::4, ::4], window.frames[1])
  assert "GHOST" in event_pictures._label(window.events[2])  # The ghost is eaten at step 2 by default.
  assert event_pictures._label(None, np.array([1.0, 0.9, 0.0, 0.7, 0.2])) == ["food 0.90", "GHOST 0.70"]
