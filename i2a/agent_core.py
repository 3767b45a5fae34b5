"""What both agents share: the call contract, the frame-stack state and which variables train.

`I2AAgent` (the talk's agent) and `MCAgent` (the paper's rollout-encoder-free ablation, Sec. 4.2) both
act with `agent(frame, state)` and let the actors and the learner reuse imagined rollouts through
`agent.step(frame, state, imagination)`; `__call__` is `step` without its third output. Both provide
`i2a.agent_interface.Agent` through this base: a subclass sets num_actions, height, width, stack_size,
compute_dtype and records_terminal, and defines `step`, `rollout_depth`, `env_model` and
`rollout_policy`.
"""
import abc
from typing import Optional

import sonnet as snt
import tensorflow as tf

from i2a import frame_stack as frame_stack_lib
from i2a import imagined as imagined_lib
from i2a import types


class ImaginingCore(snt.RNNCore, abc.ABC):
  """An agent core: `step` runs one step and returns `(AgentOutput, next_state, Imagination or None)`."""
  num_actions: int
  height: int
  width: int
  stack_size: int
  compute_dtype: tf.DType = tf.float32
  records_terminal: bool

  @abc.abstractmethod
  def step(self, frame: tf.Tensor, prev_state: tf.Tensor,
           imagination: Optional[imagined_lib.Imagination] = None
           ) -> tuple[types.AgentOutput, tf.Tensor, Optional[imagined_lib.Imagination]]:
    """One agent step; `imagination` (from an earlier `step` on the same state) is reused, not redone."""

  @property
  @abc.abstractmethod
  def rollout_depth(self) -> Optional[int]:
    """Imagined steps per rollout, or None for an agent that does not imagine."""

  @property
  @abc.abstractmethod
  def env_model(self) -> Optional[snt.Module]:
    """The frozen environment model, or None."""

  @property
  @abc.abstractmethod
  def rollout_policy(self) -> Optional[snt.Module]:
    """The distillable rollout policy (a `RolloutPolicy`), or None when there is nothing to distil."""

  def __call__(self, frame: tf.Tensor, prev_state: tf.Tensor,
               imagination: Optional[imagined_lib.Imagination] = None
               ) -> tuple[types.AgentOutput, tf.Tensor]:
    """One agent step: `step` without the imagination it returns."""
    output, next_state, _ = self.step(frame, prev_state, imagination)
    return output, next_state

  @property
  def frozen_variables(self) -> tuple[tf.Variable, ...]:
    """The environment model's variables: loaded from its own checkpoint, never trained by RL."""
    model = self.env_model
    # tf.Module's property, not Sonnet's: Sonnet raises before a module has built its variables.
    return tuple(tf.Module.variables.fget(model)) if model is not None else ()

  @property
  def trainable_variables(self) -> tuple[tf.Variable, ...]:
    """Every trainable variable except the frozen environment model's (paper Sec. 3.2)."""
    frozen = {v.ref() for v in self.frozen_variables}
    return tuple(v for v in super().trainable_variables if v.ref() not in frozen)

  @property
  def policy_variables(self) -> tuple[tf.Variable, ...]:
    """What actors copy from the learner, in this one order: the trainable variables, then the frozen
    environment model's. The samplers' states are left out: every copy keeps its own random stream."""
    return tuple(self.trainable_variables) + tuple(self.frozen_variables)

  def initial_state(self, batch_size: int | tf.Tensor = 1) -> tf.Tensor:
    """Zero (black) frames: float32 [batch_size, H, W, 3 * stack_size]; batch 1 by default, as the talk's
    notebook calls it (`agent.initial_state()`)."""
    return tf.zeros(tf.stack([batch_size, self.height, self.width,
                              frame_stack_lib.FRAME_CHANNELS * self.stack_size]), dtype=tf.float32)

  def _checked_frame(self, frame: tf.Tensor) -> tf.Tensor:
    """`frame` as a tensor, refused unless float32 [B, H, W, 3]."""
    frame = tf.convert_to_tensor(frame)
    expected = (self.height, self.width, frame_stack_lib.FRAME_CHANNELS)
    if frame.dtype != tf.float32 or frame.shape.rank != 4 or tuple(frame.shape[1:]) != expected:
      raise ValueError(f"{type(self).__name__}: frame must be float32 in [0, 1] of shape "
                       f"[B, {', '.join(map(str, expected))}], got {frame.dtype.name} {frame.shape}.")
    return frame


def build_rollout_policy(agent: ImaginingCore) -> None:
  """Creates the distillable rollout policy's variables, if the agent has one and they do not exist.

  With rollout_depth 1 the imagination never calls the rollout policy (step 1 imagines each action in
  turn, paper Sec. 3.1), yet the distillation loss trains it and the actors receive its weights with
  the others, so the learner and every actor must create it the same way before weights are exchanged.
  """
  policy = agent.rollout_policy
  if policy is not None and not tf.Module.trainable_variables.fget(policy):  # A sampler state is no build.
    policy(tf.zeros([1, agent.height, agent.width, frame_stack_lib.FRAME_CHANNELS]))


def build_variables(agent: ImaginingCore) -> None:
  """Creates an agent's variables with one batch-1 step on a black frame, and its rollout policy's
  (`build_rollout_policy`): what a checkpoint restore or a weight copy needs to exist first."""
  agent(tf.zeros([1, agent.height, agent.width, frame_stack_lib.FRAME_CHANNELS]), agent.initial_state(1))
  build_rollout_policy(agent)
