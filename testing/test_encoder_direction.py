"""The rollout encoder's reading order (paper Sec. 3.2, footnote 1): backward (default), forward, or both
ways with two LSTMs whose outputs are concatenated."""
import numpy as np
import pytest
import sonnet as snt
import tensorflow as tf

import i2a
from i2a import imag_path as imag_path_lib
from testing import recording_fakes

A, H, W, LSTM = 5, 6, 7, 4


@snt.allow_empty_variables
class RewardFeature(snt.Module):
  """[r, r^2]: a per-step feature that depends on the imagined step only (not on the action)."""

  def __call__(self, frame, reward, action):
    del frame, action
    return tf.stack([reward, reward * reward], axis=-1)


@snt.allow_empty_variables
class ReversedStepModel(recording_fakes.RecordingEnvModel):
  """RecordingEnvModel whose reward counts down: depth - 1, ..., 0 (the steps in reverse)."""

  def __init__(self, depth):
    super().__init__()
    self._depth = depth

  def __call__(self, frame_stack, action):
    out = super().__call__(frame_stack, action)
    return out._replace(reward=self._depth - 1 - out.reward)


def _path(direction, depth, model=None, feature=None):
  return i2a.ImagPath(A, depth, model or recording_fakes.RecordingEnvModel(),
                      recording_fakes.ConstantPolicy(A, 2),
                      feature or recording_fakes.RewardAndActionFeature(), lstm_size=LSTM,
                      encoder_direction=direction)


@pytest.mark.parametrize("direction,expected", [
    pytest.param("backward", {"_lstm": [3, 2, 1, 0]}, id="backward"),
    pytest.param("forward", {"_lstm": [0, 1, 2, 3]}, id="forward"),
    pytest.param("bidirectional", {"_lstm": [3, 2, 1, 0], "_forward_lstm": [0, 1, 2, 3]}, id="bidirectional"),
])
def test_each_direction_feeds_the_imagined_steps_in_its_order(direction, expected):
  path = _path(direction, depth=4)
  cores = {name: recording_fakes.RecordingCore(LSTM) for name in expected}
  for name, core in cores.items():
    setattr(path, name, core)
  out = path(tf.zeros([2, H, W, 3])).numpy()
  for name, steps in expected.items():
    # The fake model's reward is the index of the imagined step.
    assert [int(x[0, 0]) for x in cores[name].inputs] == steps, name
  # Each core's output is its last input, padded: [step, action, 0, 0]; the backward reader ends on step 0
  # (the forced first action i), the forward one on the last step (the rollout policy's action 2).
  last = {"_lstm": 0 if direction != "forward" else 3, "_forward_lstm": 3}
  codes = [np.stack([np.full(A, last[n]), np.arange(A) if last[n] == 0 else np.full(A, 2),
                     np.zeros(A), np.zeros(A)], -1) for n in expected]
  np.testing.assert_array_equal(out, np.tile(np.concatenate(codes, -1).reshape(-1), (2, 1)))


@pytest.mark.parametrize("direction,width", [("backward", A * LSTM), ("forward", A * LSTM),
                                             ("bidirectional", A * 2 * LSTM)])
@pytest.mark.parametrize("batch_size", [1, 3])
def test_code_shapes(direction, width, batch_size):
  path = _path(direction, depth=2)
  out = path(tf.zeros([batch_size, H, W, 3]))
  assert out.shape == (batch_size, width) and out.dtype == tf.float32
  lstms = [v for v in path.trainable_variables if "lstm" in v.name]
  assert len(lstms) == (6 if direction == "bidirectional" else 3)  # w_i, w_h, b per LSTM.


@pytest.mark.parametrize("depth", [2, 4])
def test_forward_on_reversed_steps_equals_backward(depth):
  tf.random.set_seed(0)
  backward = _path("backward", depth, feature=RewardFeature())
  forward = _path("forward", depth, model=ReversedStepModel(depth), feature=RewardFeature())
  forward._lstm = backward._lstm  # pylint: disable=protected-access  # One LSTM, two reading orders.
  frames = tf.zeros([3, H, W, 3])
  expected = backward(frames)
  tf.debugging.assert_equal(forward(frames), expected)
  # Control: forward on the steps in their own order differs, so the equality above can fail.
  plain = _path("forward", depth, feature=RewardFeature())
  plain._lstm = backward._lstm  # pylint: disable=protected-access
  assert not bool(tf.reduce_all(tf.equal(plain(frames), expected)))


def test_bidirectional_is_the_concatenation_of_both_readers():
  tf.random.set_seed(1)
  both = _path("bidirectional", 3, feature=RewardFeature())
  backward = _path("backward", 3, feature=RewardFeature())
  forward = _path("forward", 3, feature=RewardFeature())
  backward._lstm, forward._lstm = both._lstm, both._forward_lstm  # pylint: disable=protected-access
  frames = tf.zeros([2, H, W, 3])
  out = tf.reshape(both(frames), [2, A, 2 * LSTM])
  tf.debugging.assert_equal(out[..., :LSTM], tf.reshape(backward(frames), [2, A, LSTM]))
  tf.debugging.assert_equal(out[..., LSTM:], tf.reshape(forward(frames), [2, A, LSTM]))


def test_unknown_direction_is_refused():
  with pytest.raises(ValueError, match="encoder_direction"):
    _path("sideways", 2)
  with pytest.raises(ValueError, match="encoder_direction"):
    i2a.AgentConfig(encoder_direction="sideways")
  assert imag_path_lib.ENCODER_DIRECTIONS == i2a.configs.ENCODER_DIRECTIONS


def test_factory_passes_the_direction_and_the_agent_widens_its_head():
  config = i2a.AgentConfig(game="minipacman", variant="copy", rollout_depth=1, hidden_size=8, lstm_size=LSTM,
                           rollout_hidden_size=8, torso=i2a.TorsoConfig((4,), (3,), (2,)),
                           encoder_direction="bidirectional", seed=0)
  agent = i2a.build_agent(config)
  assert agent.imag_path.encoder_direction == "bidirectional"
  out, _ = agent(tf.zeros([2, 15, 19, 3]), agent.initial_state(2))
  assert out.policy_logits.shape == (2, 5)
  assert agent.imag_path(agent.initial_state(2)).shape == (2, 5 * 2 * LSTM)
