"""What the training system, the planners and profiling may ask of an agent, and nothing more.

Both agents provide it: `I2AAgent` (the talk's agent; with `NoImagPath` also the model-free baselines)
and `MCAgent` (the paper's rollout-encoder-free ablation, Sec. 4.2), through their shared base
`agent_core.ImaginingCore`. Code that takes an agent annotates it with `Agent` and uses only these
members; `testing/test_agent_interface.py` checks every variant `factory.build_agent` builds against it.

Who asks what:

    # Actors, evaluation, data collection (`inference.PolicyStep`), central inference:
    state = agent.initial_state(N)                       # float32 [N, H, W, 3 * stack_size]
    output, state, imagination = agent.step(frame, state)  # frame float32 [N, H, W, 3] in [0, 1]
    actor_weights = agent.policy_variables              # copied from the learner, in this order
    # The learner: re-encodes the actors' rollouts, distils the rollout policy, freezes the model.
    output, state = agent(frame, state, imagination=imagination)
    agent.trainable_variables, agent.rollout_policy, agent.compute_dtype
    # Shipping imagination (i2a/imagined.py), trajectory checks: the rollouts' shape and content.
    agent.num_actions, agent.rollout_depth, agent.height, agent.width, agent.records_terminal
    # Planners and the env-model loaders: the frozen model.
    agent.env_model, agent.stack_size
"""
from typing import Optional, Protocol, runtime_checkable

import sonnet as snt
import tensorflow as tf

from i2a import imagined as imagined_lib
from i2a import types


@runtime_checkable
class Agent(Protocol):
  """An acting, trainable agent: an `snt.RNNCore` whose state is the stack of its last frames.

  Attributes:
    num_actions: A, the size of the discrete action set.
    height, width: H, W, the frame size in pixels.
    stack_size: S, frames in the state.
    compute_dtype: the dtype the networks compute in (tf.float32, tf.bfloat16 or tf.float16); variables,
      heads and state stay float32 (i2a/layers.py).
    records_terminal: whether its `Imagination` records predicted episode ends (`terminal`).
  """
  num_actions: int
  height: int
  width: int
  stack_size: int
  compute_dtype: tf.DType
  records_terminal: bool

  @property
  def rollout_depth(self) -> Optional[int]:
    """D, imagined steps per rollout, or None for an agent that does not imagine."""

  @property
  def env_model(self) -> Optional[snt.Module]:
    """The frozen environment model `(frame_stack, action) -> EnvModelOutput`, or None."""

  @property
  def rollout_policy(self) -> Optional[snt.Module]:
    """The distillable rollout policy (`RolloutPolicy`, paper Sec. 3.1), or None (none, or random)."""

  @property
  def trainable_variables(self) -> tuple[tf.Variable, ...]:
    """What reinforcement learning trains: every trainable variable except the environment model's."""

  @property
  def frozen_variables(self) -> tuple[tf.Variable, ...]:
    """The environment model's variables: loaded from its own checkpoint, never trained (Sec. 3.2)."""

  @property
  def policy_variables(self) -> tuple[tf.Variable, ...]:
    """The weights actors copy from the learner: `trainable_variables`, then `frozen_variables`.
    Samplers' states are left out: every copy keeps its own random stream (i2a/seeds.py)."""

  def initial_state(self, batch_size: int | tf.Tensor = 1) -> tf.Tensor:
    """Zero frames: float32 [batch_size, H, W, 3 * stack_size]."""

  def step(self, frame: tf.Tensor, prev_state: tf.Tensor,
           imagination: Optional[imagined_lib.Imagination] = None
           ) -> tuple[types.AgentOutput, tf.Tensor, Optional[imagined_lib.Imagination]]:
    """One step: frame float32 [B, H, W, 3] in [0, 1], prev_state float32 [B, H, W, 3 * S] ->
    (AgentOutput(action int32 [B], policy_logits float32 [B, A], baseline float32 [B]), next_state,
    the Imagination used or None). `imagination`, from an earlier `step` on the same state, is reused."""

  def __call__(self, frame: tf.Tensor, prev_state: tf.Tensor,
               imagination: Optional[imagined_lib.Imagination] = None
               ) -> tuple[types.AgentOutput, tf.Tensor]:
    """`step` without the imagination it returns."""
