"""Named tuples shared across the package: what modules return and what actors send the learner.

Shapes use B for batch, T for time, H/W for frame height/width, A for the number of actions and S for the
frame-stack size. Frames fed to networks are float32 RGB in [0, 1]; environments emit uint8 frames.
"""
from typing import Any, NamedTuple, Optional

import tensorflow as tf


class AgentOutput(NamedTuple):
  """What `I2AAgent` returns for one step (the talk's `(action, policy_logits, baseline)`).

  Attributes:
    action: int32 [B], sampled from `policy_logits`.
    policy_logits: float32 [B, A].
    baseline: float32 [B], the value estimate V(o_t).
  """
  action: tf.Tensor
  policy_logits: tf.Tensor
  baseline: tf.Tensor


class EnvModelOutput(NamedTuple):
  """What every environment model returns: `model(frame_stack, action) -> (frame, reward, reward_bins)`.

  Attributes:
    frame: float32 [B, H, W, 3] in [0, 1], the predicted next frame fed back into the rollout.
    reward: float32 [B], the predicted reward (expected value under the reward distribution).
    reward_bins: float32 [B, bins], probabilities over reward bins (MiniPacman: over the 5 event types).
  """
  frame: tf.Tensor
  reward: tf.Tensor
  reward_bins: tf.Tensor


class EnvModelLogits(NamedTuple):
  """Unnormalised predictions of a learned environment model, for its training loss.

  Attributes:
    frame_logits: float32 [B, H, W, 3] (Bernoulli per pixel channel) or [B, H, W, P] (categorical over
      a palette of P colours).
    reward_logits: float32 [B, bins] (categorical reward bins, or one logit per event type), or None
      for a frames-only model.
  """
  frame_logits: tf.Tensor
  reward_logits: Optional[tf.Tensor]


class LossOutput(NamedTuple):
  """A scalar loss and its diagnostics, in the manner of trfl."""
  loss: tf.Tensor
  extra: Any


class Trajectory(NamedTuple):
  """An unroll of T+1 steps for B environments, as actors send it to the learner.

  Index t holds the timestep o_t as the environment returned it (step type, reward r_t and discount d_t
  received on arriving at o_t) and the action a_t the actor then took from o_t with `behaviour_logits`.
  Consecutive unrolls overlap by one step: the last step of one is the first of the next.

  Attributes:
    step_type: int32 [T+1, B], dm_env.StepType values (0 FIRST, 1 MID, 2 LAST).
    observation: uint8 [T+1, B, H, W, 3], the RGB frame.
    reward: float32 [T+1, B].
    discount: float32 [T+1, B], 0 at a terminal step, 1 otherwise (also 1 at a time-limit end).
    action: int32 [T+1, B].
    behaviour_logits: float32 [T+1, B, A].
    initial_state: float32 [B, H, W, 3*S], the agent's frame stack before step 0.
    imagination: None, or an `i2a.imagined.CompactImagination` of [T+1, B, ...] arrays: what the
      actor's imagination path imagined at each step, for the learner to re-encode instead of running
      the frozen environment model again (frame_index uint8 [T+1, B, A, D, H, W], reward float32
      [T+1, B, A, D], action uint8 [T+1, B, A, D]).
  """
  step_type: tf.Tensor
  observation: tf.Tensor
  reward: tf.Tensor
  discount: tf.Tensor
  action: tf.Tensor
  behaviour_logits: tf.Tensor
  initial_state: tf.Tensor
  imagination: Optional[Any] = None
