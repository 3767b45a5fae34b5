"""Fakes that record how the imagination path calls them, to prove its data flow."""
import sonnet as snt
import tensorflow as tf

from i2a import types


@snt.allow_empty_variables
class RecordingEnvModel(snt.Module):
  """Predicts a frame filled with (call index + 1) / 100 and a reward equal to the call index.

  Records, per call, the actions it received ([B * num_actions] after BatchApply folds the axes) and the
  newest frame of each input stack. Run eagerly so the records are concrete.
  """

  def __init__(self, num_reward_bins: int = 3):
    super().__init__(name="recording_env_model")
    self.num_reward_bins = num_reward_bins
    self.actions = []
    self.input_frames = []

  def __call__(self, frame_stack, action):
    step = len(self.actions)
    self.actions.append(action.numpy())
    self.input_frames.append(frame_stack[..., -3:].numpy())
    batch = tf.shape(frame_stack)[0]
    frame = tf.fill(tf.concat([[batch], tf.shape(frame_stack)[1:3], [3]], 0), (step + 1) / 100.0)
    reward = tf.fill([batch], float(step))
    return types.EnvModelOutput(frame, reward, tf.zeros([batch, self.num_reward_bins]))


@snt.allow_empty_variables
class ConstantPolicy(snt.Module):
  """Always picks `action`; records the frames it was shown."""

  def __init__(self, num_actions: int, action: int):
    super().__init__(name="constant_policy")
    self.num_actions = num_actions
    self.action = action
    self.frames = []

  def __call__(self, frame):
    self.frames.append(frame.numpy())
    batch = tf.shape(frame)[0]
    return tf.fill([batch], self.action), tf.zeros([batch, self.num_actions])


@snt.allow_empty_variables
class RewardAndActionFeature(snt.Module):
  """The per-step feature [reward, action]: enough to identify the step and the action taken."""

  def __init__(self):
    super().__init__(name="reward_and_action_feature")

  def __call__(self, frame, reward, action):
    del frame
    return tf.stack([reward, tf.cast(action, tf.float32)], axis=-1)


class RecordingCore(snt.RNNCore):
  """Stands in for the encoder LSTM: records each input; its output is the input it was last fed."""

  def __init__(self, hidden_size: int):
    super().__init__(name="recording_core")
    self.hidden_size = hidden_size
    self.inputs = []

  def initial_state(self, batch_size):
    return snt.LSTMState(hidden=tf.zeros([batch_size, self.hidden_size]),
                         cell=tf.zeros([batch_size, self.hidden_size]))

  def __call__(self, inputs, prev_state):
    self.inputs.append(inputs.numpy())
    output = tf.pad(inputs, [[0, 0], [0, self.hidden_size - inputs.shape[-1]]])
    return output, snt.LSTMState(hidden=output, cell=prev_state.cell + 1.0)
