"""The rollout-encoder-free Monte Carlo agent, I2A's ablation of paper Sec. 4.2 (Fig. 5).

For each first action a, one rollout of `rollout_depth` steps is imagined with the frozen environment
model and the rollout policy pi-hat (exactly as `ImagPath` does), and scored by a fixed function instead
of a learned encoder:

    Q(a) = sum_{k=0}^{depth-1} gamma^k r_{k+1}^a + gamma^depth V(x_depth^a)

and the policy is softmax(Q / delta) over the first actions, delta > 0 a learned temperature. No
model-free path: only V, pi-hat (by distillation) and delta are learned (paper Sec. 4.2). V is one value
network, read on the real frame for the actor-critic baseline and on the last imagined frame for Q.

Three choices the paper leaves open (WORKSPACE.md, "The Monte Carlo agent"):
- V inside Q is `stop_gradient`ed: V is trained as a value function by the baseline loss only. The
  agent's Q is a fixed summary of the rollout (Sec. 4.2: "rollout-encoder-free"); letting the policy
  gradient and the entropy bonus shape V would make V a learned encoder of the last imagined frame,
  the very thing the ablation removes. So the policy gradient trains delta alone.
- A rollout's return stops where the model predicts that the episode ends (a Sokoban solve, a
  MiniPacman death): no later reward and no value is added (`rollouts.imagined_returns`).
- The actor ships its rollouts to the learner like I2A's (i2a/imagined.py). The rollouts are the
  policy's own randomness: re-imagined ones would give the learner another policy than the one that
  acted, so V-trace's ratios would be noisy and clipped even with equal weights.
"""
import math
from typing import Optional

import sonnet as snt
import tensorflow as tf

from i2a import agent_core
from i2a import frame_processing
from i2a import frame_stack as frame_stack_lib
from i2a import imagined as imagination_lib
from i2a import policies
from i2a import rollouts
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


class MCAgent(agent_core.ImaginingCore):
  """The Monte Carlo agent with I2AAgent's call contract (the learner and actors use it unchanged).

  `agent(frame [B, H, W, 3] float32 in [0, 1], state [B, H, W, 3 * stack_size])` returns
  `(AgentOutput(action [B] int32, policy_logits [B, A] = Q / delta, baseline [B] = V(real frame)),
  next_state)`. The environment model's outputs are `stop_gradient`ed and its variables are left out of
  `trainable_variables` (paper Sec. 3.2: pretrained, then frozen). Imagined actions after the first are
  sampled, so no gradient reaches pi-hat except the distillation loss's; V inside Q is
  `stop_gradient`ed (module docstring), so policy_logits carry gradient to delta alone.
  """
  # The imagined returns stop at predicted episode ends, so the shipped rollouts carry them.
  records_terminal = True

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
      discount: gamma of the imagined return; the training system passes the learner's
        (`LearnerConfig.discount`), so that Q and V-trace discount alike.
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
    self._rollout_depth = rollout_depth
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
  def rollout_depth(self) -> int:
    """Imagined steps per rollout."""
    return self._rollout_depth

  @property
  def env_model(self) -> snt.Module:
    """The frozen environment model."""
    return self._env_model

  @property
  def rollout_policy(self) -> Optional[snt.Module]:
    """The distillable rollout policy (a `RolloutPolicy`), or None for a random one."""
    policy = self._rollout_policy
    return policy if isinstance(policy, policies.RolloutPolicy) else None

  def imagine(self, frame_stack: tf.Tensor) -> imagination_lib.Imagination:
    """float32 [B, H, W, C] -> one rollout per first action, with predicted episode ends
    (`rollouts.imagine`; frames [B, A, D, H, W, 3], rewards and terminal [B, A, D])."""
    return rollouts.imagine(frame_stack, self.num_actions, self.rollout_depth, self._env_model,
                            self._rollout_policy, record_terminal=True)

  def imagined_returns(self, frame_stack: tf.Tensor,
                       imagination: Optional[imagination_lib.Imagination] = None) -> tf.Tensor:
    """Q, float32 [B, num_actions]: each rollout's discounted predicted rewards plus the discounted,
    `stop_gradient`ed value of its last imagined frame stack, cut at a predicted episode end.

    Args:
      frame_stack: float32 [B, H, W, C], the real frame stack the rollouts start from.
      imagination: the rollouts `imagine` returned for this stack (shipped by an actor), or None to
        imagine them now.
    """
    if imagination is None:
      imagination = self.imagine(frame_stack)
    last_stack = rollouts.last_frame_stack(frame_stack, imagination)  # [B, A, H, W, C]
    last_values = tf.stop_gradient(snt.BatchApply(self.value_net)(last_stack))
    return rollouts.imagined_returns(imagination, last_values, self.discount)

  def step(self, frame: tf.Tensor, prev_state: tf.Tensor,
           imagination: Optional[imagination_lib.Imagination] = None
           ) -> tuple[types.AgentOutput, tf.Tensor, imagination_lib.Imagination]:
    """One agent step that also returns the rollouts it scored (I2AAgent's `step` contract).

    Args:
      frame: float32 [B, H, W, 3] in [0, 1].
      prev_state: float32 [B, H, W, 3 * stack_size].
      imagination: None to imagine now, or the `Imagination` an earlier call returned for the same
        frame stack (the learner scores the actor's rollouts again with its own V and delta).

    Returns:
      (AgentOutput, next_state, the Imagination used).
    """
    frame = self._checked_frame(frame)
    next_state = frame_stack_lib.update_frame_stack(prev_state, frame)
    if imagination is None:
      imagination = self.imagine(next_state)
    # Policy: softmax over the per-action returns at temperature delta (paper Sec. 4.2).
    policy_logits = self.imagined_returns(next_state, imagination) * tf.exp(-self.log_temperature)
    baseline = self.value_net(next_state)
    action = self._sampler(policy_logits)
    return types.AgentOutput(action, policy_logits, baseline), next_state, imagination
