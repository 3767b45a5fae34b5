"""The imagination path: imagine one rollout per action, encode each, aggregate (paper Sec. 3, Fig. 1;
talk, "ImagPath", "NoImagPath" and "SingleImagFeature" slides).

The talk's code runs with batch size 1 and ends with `tf.reshape(..., [1, -1])`; this port keeps the
batch axis everywhere, so every module here works for any (even unknown) batch size.
"""
from typing import Optional

import sonnet as snt
import tensorflow as tf

from i2a import frame_processing
from i2a import imagined as imagination_lib
from i2a import layers
from i2a import rollouts


@snt.allow_empty_variables
class NoImagPath(snt.Module):
  """A zero-width feature: an I2A with it is exactly the model-free baseline (paper Sec. 4.1)."""

  def __init__(self, name: str = "no_imag_path"):
    """Creates the sub-modules; variables are created on the first call.

    Args:
      name: module name.
    """
    super().__init__(name=name)

  def __call__(self, frame_stack: tf.Tensor) -> tf.Tensor:
    """float32 [B, H, W, C] -> float32 [B, 0]."""
    return tf.zeros(tf.stack([tf.shape(frame_stack)[0], 0]), dtype=tf.float32)


class SingleImagFeature(snt.Module):
  """The rollout encoder's input for one imagined step: concat(CNN(frame), reward, one-hot action).

  The talk concatenates the scalar reward; the paper's appendix broadcasts it as an extra channel of the
  CNN output (paper App. B.1). Both carry the same information; we keep the talk's form (WORKSPACE.md).
  """

  def __init__(self, output_size: Optional[int], num_actions: int,
               torso: frame_processing.TorsoConfig = frame_processing.TALK_TORSO,
               name: str = "single_imag_feature"):
    """Creates the sub-modules; variables are created on the first call.

    Args:
      output_size: width of the Linear + ReLU after the convolutions (the talk's 128), or None for the
        paper's conv-only per-step CNN.
      num_actions: A, the length of the one-hot action.
      torso: the convolutions (the talk's by default).
      name: module name.
    """
    super().__init__(name=name)
    self.num_actions = num_actions
    self._frame_processing = frame_processing.FrameProcessing(output_size, torso)

  def __call__(self, frame: tf.Tensor, reward: tf.Tensor, action: tf.Tensor) -> tf.Tensor:
    """float [B, H, W, 3], float32 [B], int32 [B] -> float32 [B, F + 1 + num_actions].

    The CNN computes in the frame's dtype; its output is cast to float32 before the reward joins it.
    """
    return tf.concat([tf.cast(self._frame_processing(frame), tf.float32),
                      tf.expand_dims(tf.cast(reward, tf.float32), -1),
                      tf.one_hot(action, self.num_actions, dtype=tf.float32)], axis=-1)


ENCODER_DIRECTIONS = ("backward", "forward", "bidirectional")


class ImagPath(snt.Module):
  """One imagined rollout per action, encoded by one shared LSTM fed in reverse order.

  `encoder_direction` 'forward' reads the imagined steps first to last instead, and 'bidirectional'
  reads them both ways with two LSTMs and concatenates their outputs (paper Sec. 3.2, footnote 1: the
  direction made little difference), so c_ia is [B, num_actions * 2 * lstm_size].

  The environment model is frozen (paper Sec. 3.2, pretrained then fixed): its outputs pass through
  `tf.stop_gradient`, and `I2AAgent.trainable_variables` leaves its variables out.
  """

  def __init__(self, num_actions: int, rollout_depth: int, env_model: snt.Module,
               rollout_policy: snt.Module, single_imag_feature: snt.Module, lstm_size: int = 256,
               encoder_direction: str = "backward", name: str = "imag_path"):
    """Creates the sub-modules; variables are created on the first call.

    Args:
      num_actions: A: one rollout per first action (paper Sec. 3.1).
      rollout_depth: imagined steps per rollout (the paper's canonical 5).
      env_model: the frozen environment model, `(frame_stack, action) -> EnvModelOutput`.
      rollout_policy: picks the imagined actions after the first (`RolloutPolicy` or `RandomPolicy`),
        `frame [B, H, W, 3] -> (action [B], logits [B, A])`.
      single_imag_feature: encodes one imagined step (`SingleImagFeature`).
      lstm_size: the rollout encoder's LSTM width (the talk: 256; the paper's Sokoban agent: 512).
      encoder_direction: the order the encoder reads the imagined steps: 'backward' (the talk's and the
        paper's: last step first), 'forward', or 'bidirectional' (both, codes concatenated; paper
        Sec. 3.2, footnote 1).
      name: module name.
    """
    super().__init__(name=name)
    if num_actions < 1 or rollout_depth < 1 or lstm_size < 1:
      raise ValueError(f"ImagPath: num_actions, rollout_depth and lstm_size must be positive, got "
                       f"{num_actions}, {rollout_depth}, {lstm_size}.")
    self.num_actions = num_actions
    self.rollout_depth = rollout_depth
    self.env_model = env_model
    self.rollout_policy = rollout_policy
    self.single_imag_feature = single_imag_feature
    self.lstm_size = lstm_size
    self._lstm = layers.LSTM(lstm_size, name="rollout_encoder_lstm")  # Shared by all rollouts (App. B.1).
    if encoder_direction not in ENCODER_DIRECTIONS:
      raise ValueError(f"ImagPath: encoder_direction must be one of {ENCODER_DIRECTIONS}, got "
                       f"{encoder_direction!r}.")
    self.encoder_direction = encoder_direction
    self._forward_lstm = (layers.LSTM(lstm_size, name="rollout_encoder_lstm_forward")
                          if encoder_direction == "bidirectional" else None)

  def _tile_by_actions(self, tensor: tf.Tensor) -> tf.Tensor:
    """[B, ...] -> [B, num_actions, ...] (the talk's helper; Sonnet 1's TileByDim)."""
    return rollouts.tile_by_actions(tensor, self.num_actions)

  def _per_depth(self, inputs: tf.Tensor) -> list[tf.Tensor]:
    """[B, A, D, ...] -> D tensors [B, A, ...]. One unstack, whose gradient is one stack: indexing each
    depth (inputs[:, :, d]) computes the same, but its gradient zero-fills a [B, A, D, ...] tensor per
    depth (the learner's largest non-model cost in launch.profile_train)."""
    return tf.unstack(inputs, num=self.rollout_depth, axis=2)

  def __call__(self, frame_stack: tf.Tensor) -> tf.Tensor:
    """float [B, H, W, C] -> float32 [B, num_actions * lstm_size], the imagination code c_ia.

    The networks compute in the dtype of `frame_stack` (float32, bfloat16 or float16; i2a/layers.py).
    """
    return self.encode(self.imagine(frame_stack), frame_stack.dtype)

  def imagine(self, frame_stack: tf.Tensor) -> imagination_lib.Imagination:
    """The rollouts: float [B, H, W, C] -> Imagination (frames [B, A, D, H, W, 3] float32, rewards,
    actions; `i2a.rollouts.imagine`). Only the frozen model and the sampled rollout policy run here:
    nothing to differentiate."""
    return rollouts.imagine(frame_stack, self.num_actions, self.rollout_depth, self.env_model,
                            self.rollout_policy)

  def encode(self, imagination: imagination_lib.Imagination, dtype: tf.DType = tf.float32) -> tf.Tensor:
    """Imagination -> float32 [B, num_actions * lstm_size].

    The per-step CNN and the LSTM's input projection compute in `dtype`, each as one batch over every
    imagined step; the LSTM recurrence and its state stay float32 (i2a/layers.py).
    """
    batch_size = tf.shape(imagination.frames)[0]
    imag_feature = snt.BatchApply(self.single_imag_feature, num_dims=3)  # Every [B, A, D] step at once.
    features = imag_feature(tf.cast(imagination.frames, dtype), imagination.rewards,
                            imagination.actions)  # float32 [B, A, D, F]

    # Encode in reverse order, last imagined step first: mimics Bellman backups (paper Sec. 3.2, fn. 1).
    # (LSTM, reads the last step first): the bidirectional encoder's second LSTM reads forward.
    readers = {"backward": [(self._lstm, True)], "forward": [(self._lstm, False)],
               "bidirectional": [(self._lstm, True), (self._forward_lstm, False)]}[self.encoder_direction]
    codes = []
    for lstm_module, reverse in readers:
      if isinstance(lstm_module, layers.LSTM):  # One input projection for every step.
        inputs = snt.BatchApply(lstm_module.input_gates, num_dims=3)(tf.cast(features, dtype))  # [B, A, D, 4L]
        lstm = snt.BatchApply(lstm_module.step_from_gates)
      else:  # Any other RNNCore put in its place.
        inputs, lstm = features, snt.BatchApply(lstm_module)
      lstm_state = tf.nest.map_structure(self._tile_by_actions, lstm_module.initial_state(batch_size))
      steps = self._per_depth(inputs)
      for step in (reversed(steps) if reverse else steps):
        lstm_output, lstm_state = lstm(step, lstm_state)
      codes.append(lstm_output)
    # Aggregator: plain concatenation of the per-action codes (paper Sec. 3).
    code = tf.concat(codes, axis=-1)  # [B, A, lstm_size * len(readers)]
    return tf.reshape(code, tf.stack([batch_size, self.num_actions * self.lstm_size * len(readers)]))
