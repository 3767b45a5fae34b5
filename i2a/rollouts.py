"""Imagined rollouts, one per first action: what `ImagPath` encodes and the Monte Carlo agent sums.

Rollout i starts with action i in every batch entry; its later actions come from the rollout policy
on the last imagined frame (paper Sec. 3.1; talk, "ImagPath" slide). The environment model is frozen
(paper Sec. 3.2): its outputs pass through `tf.stop_gradient`, and the sampled actions carry no gradient,
so an `Imagination` is a constant of every loss.

    imagination = rollouts.imagine(frame_stack, num_actions, depth, env_model, rollout_policy)
    last_stack = rollouts.last_frame_stack(frame_stack, imagination)  # [B, A, H, W, C]
"""
import sonnet as snt
import tensorflow as tf

from i2a import frame_stack as frame_stack_lib
from i2a import imagination as imagination_lib


def _frozen(env_model: snt.Module):
  """`env_model` with every output `stop_gradient`ed: the model is pretrained and fixed (Sec. 3.2)."""
  def call(frame_stack: tf.Tensor, action: tf.Tensor):
    return tf.nest.map_structure(tf.stop_gradient, env_model(frame_stack, action))
  return call


def tile_by_actions(tensor: tf.Tensor, num_actions: int) -> tf.Tensor:
  """[B, ...] -> [B, num_actions, ...] (the talk's helper; Sonnet 1's TileByDim)."""
  return tf.repeat(tf.expand_dims(tensor, axis=1), num_actions, axis=1)


def imagine(frame_stack: tf.Tensor, num_actions: int, rollout_depth: int, env_model: snt.Module,
            rollout_policy: snt.Module, record_terminal: bool = False) -> imagination_lib.Imagination:
  """One imagined rollout of `rollout_depth` steps per first action.

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
  frame_stack = tile_by_actions(frame_stack, num_actions)  # [B, A, H, W, C]
  model = snt.BatchApply(_frozen(env_model))
  policy = snt.BatchApply(rollout_policy)
  terminal_of = snt.BatchApply(env_model.predicted_terminal) if record_terminal else None
  # Step 1: rollout i starts with action i, in every batch entry (paper Sec. 3.1).
  action = tf.tile(tf.range(num_actions, dtype=tf.int32)[tf.newaxis], tf.stack([batch_size, 1]))
  frames, rewards, actions, terminal = [], [], [], []
  for step in range(rollout_depth):
    if step:  # Steps 2..D: the rollout policy on the last imagined frame (talk, ImagPath slide).
      frame_stack = frame_stack_lib.update_frame_stack(frame_stack, frame)
      action, _ = policy(tf.cast(frame, frame_stack.dtype))
    output = model(frame_stack, action)
    frame = output.frame
    frames.append(tf.cast(frame, tf.float32))
    rewards.append(tf.cast(output.reward, tf.float32))
    actions.append(action)
    if record_terminal:
      terminal.append(tf.cast(terminal_of(output), tf.float32))
  return imagination_lib.Imagination(
      frames=tf.stack(frames, axis=2), rewards=tf.stack(rewards, axis=2), actions=tf.stack(actions, axis=2),
      terminal=tf.stack(terminal, axis=2) if record_terminal else None)


def last_frame_stack(frame_stack: tf.Tensor, imagination: imagination_lib.Imagination) -> tf.Tensor:
  """The frame stack after each rollout's last imagined step: float32 [B, H, W, C] and the rollouts'
  frames [B, A, D, H, W, 3] -> float32 [B, A, H, W, C] (the real frames first, as the agent's state)."""
  frames = imagination.frames
  stack = tile_by_actions(tf.cast(frame_stack, tf.float32), frames.shape[1])
  for frame in tf.unstack(frames, axis=2):
    stack = frame_stack_lib.update_frame_stack(stack, frame)
  return stack


def imagined_returns(imagination: imagination_lib.Imagination, last_values: tf.Tensor,
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
