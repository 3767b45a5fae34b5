"""I2AAgent: the full agent as an RNNCore whose state is the frame stack (talk, "I2AAgent" slide)."""
from typing import Optional

import sonnet as snt
import tensorflow as tf

from i2a import agent_core
from i2a import frame_stack as frame_stack_lib
from i2a import imag_path as imag_path_lib
from i2a import imagined as imagination_lib
from i2a import layers
from i2a import policies
from i2a import sampling
from i2a import types


class I2AAgent(agent_core.ImaginingCore):
  """Concatenates the imagination code and the model-free feature, then predicts policy and value.

  `agent(frame [B, H, W, 3] float32 in [0, 1], state [B, H, W, 3 * stack_size])` returns
  `(AgentOutput(action [B] int32, policy_logits [B, A], baseline [B]), next_state)`.

  Following the talk, one Linear layer of size 1 + num_actions reads the concatenated feature (column 0
  is the baseline). With `hidden_size` set, a Linear + ReLU layer comes first: the paper's agents put a
  fully connected layer between the concatenation and the heads (paper App. B.1), so with `NoImagPath` and a
  conv-only model-free path this is exactly the paper's standard model-free network.

  `precision` ('float32', 'bfloat16' or 'float16') is the dtype the networks compute in, the frozen
  environment model included; variables, the heads, the rollout encoder's LSTM and the frame-stack state
  stay float32, so checkpoints are the same in every precision (i2a/layers.py).
  """

  def __init__(self, num_actions: int, model_free_path: snt.Module, imag_path: snt.Module,
               height: int, width: int, stack_size: int, hidden_size: Optional[int] = None,
               seed: Optional[int] = None, precision: str = "float32", name: str = "i2a_agent"):
    """Creates the sub-modules; variables are created on the first call.

    Args:
      num_actions: A, the size of the discrete action set.
      model_free_path: module mapping the frame stack float32 [B, H, W, 3 * stack_size] to a feature
        [B, F] (the talk's `FrameProcessing`).
      imag_path: module mapping the frame stack to the imagination code [B, A * lstm_size] (`ImagPath`)
        or to [B, 0] (`NoImagPath`, the model-free baseline).
      height, width: frame size in pixels.
      stack_size: frames in the recurrent state (the talk's demo: 4; the paper's agents: 1).
      hidden_size: width of the Linear + ReLU layer before the heads; None reads the heads straight off
        the concatenation, as the talk does.
      seed: seeds action sampling (`i2a.sampling`); None for non-deterministic.
      precision: the dtype the networks compute in ('float32', 'bfloat16', 'float16').
      name: module name.
    """
    super().__init__(name=name)
    if min(num_actions, height, width, stack_size) < 1:
      raise ValueError(f"I2AAgent: num_actions, height, width and stack_size must be positive, got "
                       f"{num_actions}, {height}, {width}, {stack_size}.")
    self.num_actions = num_actions
    self.model_free_path = model_free_path
    self.imag_path = imag_path
    self.height = height
    self.width = width
    self.stack_size = stack_size
    self.compute_dtype = layers.compute_dtype(precision)
    self._hidden = None if hidden_size is None else layers.Linear(hidden_size, name="policy_hidden")
    self._value_and_logits = layers.Linear(1 + num_actions, name="value_and_logits")
    self._sampler = sampling.Sampler(seed)

  # Imagined episode ends are not recorded: the rollout encoder reads frames and rewards (Sec. 3.2).
  records_terminal = False

  @property
  def _imagining_path(self) -> Optional[imag_path_lib.ImagPath]:
    """The imagination path if it imagines (an `ImagPath`); None for `NoImagPath` or any other module,
    which is called on the frame stack as the talk's I2AAgent calls it."""
    return self.imag_path if isinstance(self.imag_path, imag_path_lib.ImagPath) else None

  @property
  def rollout_depth(self) -> Optional[int]:
    """Imagined steps per rollout, or None for an agent that does not imagine (`NoImagPath`)."""
    path = self._imagining_path
    return None if path is None else path.rollout_depth

  @property
  def env_model(self) -> Optional[snt.Module]:
    """The frozen environment model inside the imagination path, or None."""
    path = self._imagining_path
    return None if path is None else path.env_model

  @property
  def rollout_policy(self) -> Optional[snt.Module]:
    """The distillable rollout policy (a `RolloutPolicy`), or None when there is nothing to distil."""
    path = self._imagining_path
    policy = None if path is None else path.rollout_policy
    return policy if isinstance(policy, policies.RolloutPolicy) else None

  def step(self, frame: tf.Tensor, prev_state: tf.Tensor,
           imagination: Optional[imagination_lib.Imagination] = None
           ) -> tuple[types.AgentOutput, tf.Tensor, Optional[imagination_lib.Imagination]]:
    """One agent step that also returns what the imagination path imagined.

    Args:
      frame: float32 [B, H, W, 3] in [0, 1].
      prev_state: float32 [B, H, W, 3 * stack_size].
      imagination: None to imagine now, or the `Imagination` an earlier call returned for the same
        frame stack (the learner re-encodes what the actor imagined; see i2a/imagined.py).

    Returns:
      (AgentOutput, next_state, the Imagination used, or None for an agent without an `ImagPath`).
    """
    frame = self._checked_frame(frame)
    next_state = frame_stack_lib.update_frame_stack(prev_state, frame)
    # The networks compute in `precision` (variables stay float32; i2a/layers.py); the heads, whose
    # outputs are sampled and enter the softmaxes and V-trace, compute in float32.
    stack = tf.cast(next_state, self.compute_dtype)
    path = self._imagining_path
    if path is not None:
      if imagination is None:
        imagination = path.imagine(stack)
      imag_feature = path.encode(imagination, self.compute_dtype)
    else:
      imagination, imag_feature = None, self.imag_path(stack)
    model_free_feature = self.model_free_path(stack)
    policy_feature = tf.concat([tf.cast(imag_feature, self.compute_dtype),
                                tf.cast(model_free_feature, self.compute_dtype)], axis=1)
    if self._hidden is not None:
      policy_feature = tf.nn.relu(self._hidden(policy_feature))
    value_and_logits = self._value_and_logits(tf.cast(policy_feature, tf.float32))
    baseline = value_and_logits[:, 0]
    policy_logits = value_and_logits[:, 1:]
    action = self._sampler(policy_logits)
    return types.AgentOutput(action, policy_logits, baseline), next_state, imagination
