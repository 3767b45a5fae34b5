"""The rollout-encoder-free Monte Carlo agent, I2A's ablation of paper Sec. 4.2 (Fig. 5).

For each first action a, one rollout of `rollout_depth` steps is imagined with the frozen environment
model and the rollout policy pi-hat (exactly as `ImagPath` does), and scored by a fixed function instead
of a learned encoder:

    Q(a) = sum_{k=0}^{depth-1} gamma^k r_{k+1}^a + gamma^depth V(x_depth^a)

and the policy is softmax(Q / delta) over the first actions, delta > 0 a learned temperature. No
model-free path: only V, pi-hat (by distillation) and delta are learned (paper Sec. 4.2). V is one value
network, read on the real frame for the actor-critic baseline and on the last imagined frame for Q.
"""
import math
from typing import Optional

import sonnet as snt
import tensorflow as tf

from i2a import frame_processing
from i2a import frame_stack as frame_stack_lib
from i2a import policies
from i2a import sampling
from i2a import types


class ValueNet(snt.Module):
  """V(frame stack): the standard agent's network with only its value head (torso -> FC -> 1).

  Args:
    hidden_size: units of the fully connected layer after the torso.
    torso: the convolutional torso.
    name: module name.
  """

  def __init__(self, hidden_size: int, torso: frame_processing.TorsoConfig = frame_processing.TALK_TORSO,
               name: str = "value_net"):
    super().__init__(name=name)
    self._frame_processing = frame_processing.FrameProcessing(hidden_size, torso)
    self._value = snt.Linear(1, name="value")

  def __call__(self, frame_stack: tf.Tensor) -> tf.Tensor:
    """float32 [B, H, W, C] -> float32 [B]."""
    return tf.squeeze(self._value(self._frame_processing(frame_stack)), axis=-1)


class MCAgent(snt.RNNCore):
  """The Monte Carlo agent with I2AAgent's call contract (the learner and actors use it unchanged).

  `agent(frame [B, H, W, 3] float32 in [0, 1], state [B, H, W, 3 * stack_size])` returns
  `(AgentOutput(action [B] int32, policy_logits [B, A] = Q / delta, baseline [B] = V(real frame)),
  next_state)`. The environment model's outputs are `stop_gradient`ed and its variables are left out of
  `trainable_variables` (paper Sec. 3.2: pretrained, then frozen). Imagined actions after the first are
  sampled, so no gradient reaches pi-hat except the distillation loss's.
  """

  def __init__(self, num_actions: int, rollout_depth: int, env_model: snt.Module, rollout_policy: snt.Module,
               value_net: snt.Module, height: int, width: int, stack_size: int = 1, discount: float = 0.99,
               initial_temperature: float = 1.0, seed: Optional[int] = None, name: str = "mc_agent"):
    """Builds the agent.

    Args:
      num_actions: number of actions; one rollout per action.
      rollout_depth: imagined steps per rollout (the paper searched 1 to 5 for this agent).
      env_model: the frozen environment model, `model(frame_stack, action) -> EnvModelOutput`.
      rollout_policy: pi-hat, `policy(frame) -> (action [B] int32, logits [B, A])`.
      value_net: V, `value_net(frame_stack [B, H, W, 3 * stack_size]) -> [B]`.
      height, width: frame size in pixels.
      stack_size: frames in the state.
      discount: gamma of the imagined return (the learner's default, 0.99).
      initial_temperature: delta's initial value, > 0.
      seed: seeds action sampling; None for non-deterministic.
      name: module name.
    """
    super().__init__(name=name)
    if min(num_actions, rollout_depth, height, width, stack_size) < 1:
      raise ValueError(f"MCAgent: num_actions, rollout_depth, height, width and stack_size must be "
                       f"positive, got {num_actions}, {rollout_depth}, {height}, {width}, {stack_size}.")
    if not 0 <= discount <= 1 or initial_temperature <= 0:
      raise ValueError(f"MCAgent: discount must be in [0, 1] and initial_temperature > 0, got {discount}, "
                       f"{initial_temperature}.")
    self.num_actions = num_actions
    self.rollout_depth = rollout_depth
    self._env_model = env_model
    self._rollout_policy = rollout_policy
    self.value_net = value_net
    self.height, self.width, self.stack_size = height, width, stack_size
    self.discount = discount
    # delta = exp(log_delta) stays positive however the optimiser moves it.
    self.log_temperature = tf.Variable(math.log(initial_temperature), dtype=tf.float32,
                                       name="log_temperature")
    self._sampler = sampling.Sampler(seed)

  @property
  def env_model(self) -> snt.Module:
    """The frozen environment model."""
    return self._env_model

  @property
  def rollout_policy(self) -> Optional[snt.Module]:
    """The distillable rollout policy (a `RolloutPolicy`), or None for a random one."""
    policy = self._rollout_policy
    return policy if isinstance(policy, policies.RolloutPolicy) else None

  @property
  def frozen_variables(self) -> tuple[tf.Variable, ...]:
    """The environment model's variables: loaded from its own checkpoint, never trained by RL."""
    return tuple(tf.Module.variables.fget(self._env_model))

  @property
  def trainable_variables(self) -> tuple[tf.Variable, ...]:
    """V's, pi-hat's and delta's variables: every trainable variable but the environment model's."""
    frozen = {v.ref() for v in self.frozen_variables}
    return tuple(v for v in super().trainable_variables if v.ref() not in frozen)

  def initial_state(self, batch_size: int | tf.Tensor = 1) -> tf.Tensor:
    """Zero frames: float32 [batch_size, H, W, 3 * stack_size]."""
    return tf.zeros(tf.stack([batch_size, self.height, self.width,
                              frame_stack_lib.FRAME_CHANNELS * self.stack_size]), dtype=tf.float32)

  def _frozen_env_model(self, frame_stack: tf.Tensor, action: tf.Tensor):
    return tf.nest.map_structure(tf.stop_gradient, self._env_model(frame_stack, action))

  def imagined_returns(self, frame_stack: tf.Tensor) -> tf.Tensor:
    """float32 [B, H, W, C] -> Q, float32 [B, num_actions]: one imagined rollout per first action, its
    discounted predicted rewards plus the discounted value of its last imagined frame stack."""
    batch_size = tf.shape(frame_stack)[0]
    stack = tf.repeat(tf.expand_dims(frame_stack, 1), self.num_actions, axis=1)  # [B, A, H, W, C]
    env_model = snt.BatchApply(self._frozen_env_model)
    rollout_policy = snt.BatchApply(self._rollout_policy)
    # Rollout i starts with action i; later actions come from pi-hat (paper Sec. 3.1 and 4.2).
    action = tf.tile(tf.range(self.num_actions, dtype=tf.int32)[tf.newaxis], tf.stack([batch_size, 1]))
    returns, scale, frame = 0.0, 1.0, None
    for step in range(self.rollout_depth):
      if step:
        action, _ = rollout_policy(frame)
      frame, reward, _ = env_model(stack, action)
      stack = frame_stack_lib.update_frame_stack(stack, frame)
      returns += scale * reward
      scale *= self.discount
    return returns + scale * snt.BatchApply(self.value_net)(stack)

  def __call__(self, frame: tf.Tensor, prev_state: tf.Tensor) -> tuple[types.AgentOutput, tf.Tensor]:
    """One agent step; see the class docstring for shapes."""
    frame = tf.convert_to_tensor(frame)
    expected = (self.height, self.width, frame_stack_lib.FRAME_CHANNELS)
    if frame.dtype != tf.float32 or frame.shape.rank != 4 or tuple(frame.shape[1:]) != expected:
      raise ValueError(f"MCAgent: frame must be float32 [B, {', '.join(map(str, expected))}], got "
                       f"{frame.dtype.name} {frame.shape}.")
    next_state = frame_stack_lib.update_frame_stack(prev_state, frame)
    # Policy: softmax over the per-action returns at temperature delta (paper Sec. 4.2).
    policy_logits = self.imagined_returns(next_state) * tf.exp(-self.log_temperature)
    baseline = self.value_net(next_state)
    action = self._sampler(policy_logits)
    return types.AgentOutput(action, policy_logits, baseline), next_state

  def step(self, frame: tf.Tensor, prev_state: tf.Tensor, imagination=None
           ) -> tuple[types.AgentOutput, tf.Tensor, None]:
    """`__call__` with I2AAgent's `step` contract. The MC agent's rollouts are re-imagined by the learner
    (nothing is shipped to reuse), so `imagination` must be None and None is returned for it."""
    if imagination is not None:
      raise ValueError("MCAgent imagines its rollouts itself; it cannot re-encode shipped ones.")
    output, next_state = self(frame, prev_state)
    return output, next_state, None

