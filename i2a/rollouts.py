"""Imagined rollouts: the one loop that feeds an environment model its own frames, and what is built on it.

`unroll` is that loop, for any leading axes and any source of later actions; `imagine` is I2A's form of
it, one rollout per first action (what `ImagPath` encodes and the Monte Carlo agent sums), and
`open_loop` the model replaying given actions (held-out k-step errors, the precision check, pictures).
Rollout i of `imagine` starts with action i in every batch entry; its later actions come from the
rollout policy on the last imagined frame (paper Sec. 3.1; talk, "ImagPath" slide). The environment
model is frozen (paper Sec. 3.2): its outputs pass through `tf.stop_gradient`, and the sampled actions
carry no gradient, so an `Imagination` is a constant of every loss.

    imagination = rollouts.imagine(frame_stack, num_actions, depth, env_model, rollout_policy)
    last_stack = rollouts.last_frame_stack(frame_stack, imagination)  # [B, A, H, W, C]
    unrolled = rollouts.open_loop(env_model, frame_stack, actions)  # frames [N, K, H, W, 3]
"""
from typing import Callable, NamedTuple, Optional

import sonnet as snt
import tensorflow as tf

from i2a import frame_stack as frame_stack_lib
from i2a import imagined as imagined_lib


def _frozen(env_model: snt.Module):
  """`env_model` with every output `stop_gradient`ed: the model is pretrained and fixed (Sec. 3.2)."""
  def call(frame_stack: tf.Tensor, action: tf.Tensor):
    return tf.nest.map_structure(tf.stop_gradient, env_model(frame_stack, action))
  return call


def tile_by_actions(tensor: tf.Tensor, num_actions: int) -> tf.Tensor:
  """[B, ...] -> [B, num_actions, ...] (the talk's helper; Sonnet 1's TileByDim)."""
  return tf.repeat(tf.expand_dims(tensor, axis=1), num_actions, axis=1)


class Unrolled(NamedTuple):
  """What an environment model imagined over D steps, for any leading axes [...] (e.g. [N] or [B, A]).

  Attributes:
    frames: float32 [..., D, H, W, 3], the imagined frames after steps 1..D.
    rewards: float32 [..., D], the predicted rewards.
    actions: int32 [..., D], the actions taken at steps 1..D.
    terminal: float32 [..., D], 1 where the model predicts that the step ends the episode, or None.
    reward_bins: float32 [..., D, K], the reward-bin (MiniPacman: event) probabilities, or None.
  """
  frames: tf.Tensor
  rewards: tf.Tensor
  actions: tf.Tensor
  terminal: Optional[tf.Tensor] = None
  reward_bins: Optional[tf.Tensor] = None

  def imagination(self) -> imagined_lib.Imagination:
    """The record an agent encodes or scores (frames, rewards, actions, terminal)."""
    return imagined_lib.Imagination(self.frames, self.rewards, self.actions, self.terminal)


def unroll(env_model: snt.Module, frame_stack: tf.Tensor, first_action: tf.Tensor, depth: int,
           next_action: Callable[[int, tf.Tensor], tf.Tensor], record_terminal: bool = False,
           record_reward_bins: bool = False) -> Unrolled:
  """The one imagined-rollout loop: the model fed its own frames for `depth` steps.

  Each step's frame is pushed onto the frame stack the model reads next (`update_frame_stack`), so a
  stack of S frames starts with the real frames and fills with imagined ones, as the agent's own state
  does. The model's outputs are `stop_gradient`ed (paper Sec. 3.2: pretrained, then frozen).

  Args:
    env_model: `(frame_stack [N, H, W, C], action int32 [N]) -> EnvModelOutput`; with `record_terminal`
      it must also have `predicted_terminal(output) -> bool [N]`.
    frame_stack: float [..., H, W, C] (float32, bfloat16 or float16: the model computes in this dtype).
    first_action: int32 [...], the actions of step 1.
    depth: D >= 1, imagined steps.
    next_action: `(step in 1..D-1, frame [..., H, W, 3] in the stack's dtype) -> int [...]`, the action
      of step `step + 1` (a rollout policy, or given actions).
    record_terminal: also record the predicted episode ends.
    record_reward_bins: also record the reward-bin probabilities.

  Returns:
    Unrolled of [..., D, ...] tensors.
  """
  if depth < 1:
    raise ValueError(f"rollouts.unroll: depth must be >= 1, got {depth}.")
  leading = frame_stack.shape.rank - 3  # Every axis before [H, W, C]: one batch for the model.
  model = snt.BatchApply(_frozen(env_model), num_dims=leading)
  terminal_of = snt.BatchApply(env_model.predicted_terminal, num_dims=leading) if record_terminal else None
  action = tf.cast(first_action, tf.int32)
  frames, rewards, actions, terminal, reward_bins = [], [], [], [], []
  for step in range(depth):
    if step:
      frame_stack = frame_stack_lib.update_frame_stack(frame_stack, frame)
      action = tf.cast(next_action(step, tf.cast(frame, frame_stack.dtype)), tf.int32)
    output = model(frame_stack, action)
    frame = output.frame
    frames.append(tf.cast(frame, tf.float32))
    rewards.append(tf.cast(output.reward, tf.float32))
    actions.append(action)
    if record_terminal:
      terminal.append(tf.cast(terminal_of(output), tf.float32))
    if record_reward_bins:
      reward_bins.append(tf.cast(output.reward_bins, tf.float32))
  stack = lambda steps: tf.stack(steps, axis=leading) if steps else None
  return Unrolled(stack(frames), stack(rewards), stack(actions), stack(terminal), stack(reward_bins))


def open_loop(env_model: snt.Module, frame_stack: tf.Tensor, actions: tf.Tensor,
              record_terminal: bool = False, record_reward_bins: bool = False) -> Unrolled:
  """The model's rollouts with given actions (what held-out k-step errors and the precision check
  measure): frame_stack float [N, H, W, C], actions int [N, K] -> Unrolled of [N, K, ...]."""
  actions = tf.convert_to_tensor(actions)
  return unroll(env_model, frame_stack, actions[:, 0], int(actions.shape[1]), lambda k, _: actions[:, k],
                record_terminal, record_reward_bins)


def imagine(frame_stack: tf.Tensor, num_actions: int, rollout_depth: int, env_model: snt.Module,
            rollout_policy: snt.Module, record_terminal: bool = False) -> imagined_lib.Imagination:
  """One imagined rollout of `rollout_depth` steps per first action (paper Sec. 3.1).

  Args:
    frame_stack: float [B, H, W, C] (float32, bfloat16 or float16: the model computes in this dtype).
    num_actions: A, the number of rollouts.
    rollout_depth: D, imagined steps per rollout.
    env_model: `(frame_stack, action) -> EnvModelOutput`; with `record_terminal` it must also have
      `predicted_terminal(output) -> bool [B]`.
    rollout_policy: `frame [B, H, W, 3] -> (action int32 [B], logits [B, A])`.
    record_terminal: also record where the model predicts that the episode ends.

  Returns:
    Imagination(frames float32 [B, A, D, H, W, 3], rewards float32 [B, A, D], actions int32 [B, A, D],
    terminal float32 [B, A, D] or None).
  """
  batch_size = tf.shape(frame_stack)[0]
  policy = snt.BatchApply(rollout_policy)
  # Step 1: rollout i starts with action i, in every batch entry (paper Sec. 3.1).
  first = tf.tile(tf.range(num_actions, dtype=tf.int32)[tf.newaxis], tf.stack([batch_size, 1]))
  # Steps 2..D: the rollout policy on the last imagined frame (talk, ImagPath slide).
  return unroll(env_model, tile_by_actions(frame_stack, num_actions), first, rollout_depth,
                lambda _, frame: policy(frame)[0], record_terminal).imagination()


def last_frame_stack(frame_stack: tf.Tensor, imagination: imagined_lib.Imagination) -> tf.Tensor:
  """The frame stack after each rollout's last imagined step: float32 [B, H, W, C] and the rollouts'
  frames [B, A, D, H, W, 3] -> float32 [B, A, H, W, C] (the real frames first, as the agent's state)."""
  frames = imagination.frames
  stack = tile_by_actions(tf.cast(frame_stack, tf.float32), frames.shape[1])
  for frame in tf.unstack(frames, axis=2):
    stack = frame_stack_lib.update_frame_stack(stack, frame)
  return stack


def imagined_returns(imagination: imagined_lib.Imagination, last_values: tf.Tensor,
                     discount: float) -> tf.Tensor:
  """Each rollout's discounted imagined return, bootstrapped with the value of its last frame stack,
  and cut at a predicted episode end:

      Q(a) = sum_{k<D} gamma^k alive_k r_k^a + gamma^D alive_D V(x_D^a),  alive_0 = 1,
      alive_{k+1} = alive_k (1 - terminal_k^a)

  so after a predicted end no imagined reward and no value is added (the value net never sees
  terminal frames, so V there is arbitrary).

  Args:
    imagination: rewards float32 [B, A, D] and terminal float32 [B, A, D] (None: no episode ends).
    last_values: float32 [B, A], V of each rollout's last frame stack.
    discount: gamma in [0, 1].

  Returns:
    float32 [B, A].
  """
  rewards = imagination.rewards
  depth = rewards.shape[-1]
  ends = imagination.terminal if imagination.terminal is not None else tf.zeros_like(rewards)
  alive = tf.math.cumprod(1.0 - ends, axis=-1, exclusive=True)  # [B, A, D]: before step k's end.
  scales = tf.constant([discount**k for k in range(depth)], tf.float32)
  bootstrap = (discount**depth) * alive[..., -1] * (1.0 - ends[..., -1])
  return tf.reduce_sum(scales * alive * rewards, axis=-1) + bootstrap * last_values
