"""IMPALA's off-policy actor-critic losses on V-trace targets (Espeholt et al. 2018, Sec. 4), via trfl.

The paper trains I2A with A3C (paper Sec. 3 and App. A); we use IMPALA's learner, whose V-trace corrects for the lag
between the actors' behaviour policy and the learner's policy (WORKSPACE.md lists the deviation). With
on-policy data (rho = c = 1) V-trace reduces to A3C's n-step bootstrapped advantage.

trfl is TF1-style graph code: call these functions only inside a `tf.function`.
"""
from typing import NamedTuple, Optional

import dm_env
import tensorflow as tf
import trfl

REWARD_CLIPPING = ("none", "abs_one", "soft_asymmetric")
DISCOUNT = 0.99  # gamma: the learner's default, and the Monte Carlo agent's imagined returns'.


class ImpalaLossExtra(NamedTuple):
  """Per-transition diagnostics, float32 [T, B] each, all `stop_gradient`ed.

  Attributes:
    mask: 1 for a transition inside one episode, 0 for the one that crosses an episode boundary.
    vs: the V-trace value targets.
    pg_advantages: the V-trace policy-gradient advantages (0 where masked).
    entropy: the policy's entropy at each step.
  """
  mask: tf.Tensor
  vs: tf.Tensor
  pg_advantages: tf.Tensor
  entropy: tf.Tensor


class ImpalaLosses(NamedTuple):
  """Unweighted scalar float32 losses, each SUMMED over valid transitions (IMPALA's reduction)."""
  policy_gradient: tf.Tensor  # -sum rho-clipped advantage * log pi(a_t | x_t).
  baseline: tf.Tensor  # 0.5 * sum (vs_t - V(x_t))^2.
  entropy: tf.Tensor  # -sum H(pi(. | x_t)): minimising it raises the entropy.


def clip_rewards(rewards: tf.Tensor, mode: str) -> tf.Tensor:
  """IMPALA's reward clipping options (Espeholt et al. 2018, Sec. 5 and their Atari setup).

  Args:
    rewards: float32 [...].
    mode: 'none'; 'abs_one' clips to [-1, 1]; 'soft_asymmetric' is 5 tanh(r / 5), negative rewards
      further scaled by 0.3.

  Returns:
    float32 [...], the clipped rewards.
  """
  if mode == "none":
    return rewards
  if mode == "abs_one":
    return tf.clip_by_value(rewards, -1.0, 1.0)
  if mode == "soft_asymmetric":
    squeezed = tf.tanh(rewards / 5.0)
    return tf.where(rewards < 0.0, 0.3 * squeezed, squeezed) * 5.0
  raise ValueError(f"Unknown reward_clipping {mode!r}; expected one of {REWARD_CLIPPING}.")


def valid_transitions(step_type: tf.Tensor) -> tf.Tensor:
  """Which of the T transitions (o_t, a_t) -> o_{t+1} of an unroll stay inside one episode.

  Transition t is invalid when o_t is LAST or o_{t+1} is FIRST (in a well-formed unroll both hold
  together): the environment ignored a_t and reset, so o_{t+1}'s reward and value belong to the next
  episode.

  Args:
    step_type: int [T+1, B], dm_env.StepType values.

  Returns:
    float32 [T, B], 1.0 for valid transitions and 0.0 for the episode-crossing ones.
  """
  step_type = tf.convert_to_tensor(step_type)
  crossing = tf.logical_or(tf.equal(step_type[:-1], int(dm_env.StepType.LAST)),
                           tf.equal(step_type[1:], int(dm_env.StepType.FIRST)))
  return 1.0 - tf.cast(crossing, tf.float32)


def vtrace_returns(target_logits: tf.Tensor, behaviour_logits: tf.Tensor, actions: tf.Tensor,
                   rewards: tf.Tensor, discounts: tf.Tensor, values: tf.Tensor,
                   bootstrap_value: tf.Tensor, mask: tf.Tensor, clip_rho_threshold: Optional[float] = 1.0,
                   clip_pg_rho_threshold: Optional[float] = 1.0) -> trfl.vtrace_ops.VTraceReturns:
  """V-trace targets with episode-crossing transitions cut out.

  A masked transition t gets reward V(x_t), discount 0 and rho 1, so its delta_t is 0 and its target vs_t
  is exactly V(x_t): nothing of the next episode reaches vs_t, nor (through vs_t - V(x_t) = 0) the
  targets before it, and a time-limit end (discount 1 at LAST) bootstraps from V(LAST) as it should.
  Its inputs are replaced, not multiplied by 0, so even NaN rewards, discounts or behaviour logits there
  (e.g. a FIRST step's undefined reward) leave the losses finite.

  Args:
    target_logits: float32 [T, B, A], the learner's policy logits.
    behaviour_logits: float32 [T, B, A], the actors' policy logits.
    actions: int32 [T, B], a_t.
    rewards: float32 [T, B], the reward of transition t (r_{t+1} in the trajectory's indexing).
    discounts: float32 [T, B], gamma times the environment's discount of transition t.
    values: float32 [T, B], V(x_t).
    bootstrap_value: float32 [B], V(x_T).
    mask: float32 [T, B], from `valid_transitions`.
    clip_rho_threshold: rho-bar of the value targets; None for no clipping.
    clip_pg_rho_threshold: rho-bar of the policy-gradient advantages; None for no clipping.

  Returns:
    trfl VTraceReturns(vs [T, B], pg_advantages [T, B]), both `stop_gradient`ed.
  """
  log_rhos = (trfl.vtrace_ops.log_probs_from_logits_and_actions(target_logits, actions) -
              trfl.vtrace_ops.log_probs_from_logits_and_actions(behaviour_logits, actions))
  valid = mask > 0.0
  return trfl.vtrace_from_importance_weights(
      log_rhos=tf.where(valid, tf.stop_gradient(log_rhos), 0.0), discounts=tf.where(valid, discounts, 0.0),
      rewards=tf.where(valid, rewards, tf.stop_gradient(values)), values=values,
      bootstrap_value=bootstrap_value, clip_rho_threshold=clip_rho_threshold,
      clip_pg_rho_threshold=clip_pg_rho_threshold)


def impala_losses(step_type: tf.Tensor, reward: tf.Tensor, discount: tf.Tensor, action: tf.Tensor,
                  behaviour_logits: tf.Tensor, policy_logits: tf.Tensor, baseline: tf.Tensor,
                  gamma: float, clip_rho_threshold: Optional[float] = 1.0,
                  clip_pg_rho_threshold: Optional[float] = 1.0) -> tuple[ImpalaLosses, ImpalaLossExtra]:
  """The three IMPALA losses of one unroll of T+1 steps (T transitions).

  Index t of the inputs holds o_t with the reward r_t and discount d_t received ON ARRIVING at o_t, and
  the action a_t taken from o_t. Transition t = (o_t, a_t) therefore earns reward[t + 1] and discount
  gamma * discount[t + 1]; step T only supplies the bootstrap value V(o_T) (consecutive unrolls overlap
  by one step, so o_T is the next unroll's o_0). Episode-crossing transitions are masked out of every
  loss (see `valid_transitions` and `vtrace_returns`).

  Args:
    step_type: int32 [T+1, B].
    reward: float32 [T+1, B], already clipped (`clip_rewards`).
    discount: float32 [T+1, B], the environment's discounts.
    action: int32 [T+1, B].
    behaviour_logits: float32 [T+1, B, A].
    policy_logits: float32 [T+1, B, A], the learner's logits (differentiable).
    baseline: float32 [T+1, B], the learner's V(o_t) (differentiable).
    gamma: the agent's discount factor.
    clip_rho_threshold, clip_pg_rho_threshold: V-trace's rho-bar thresholds, None for no clipping.

  Returns:
    (ImpalaLosses of scalars, ImpalaLossExtra of [T, B] diagnostics).
  """
  mask = valid_transitions(step_type)
  target_logits = policy_logits[:-1]
  values = baseline[:-1]
  actions = action[:-1]
  vtrace = vtrace_returns(
      target_logits=target_logits, behaviour_logits=behaviour_logits[:-1], actions=actions,
      rewards=reward[1:], discounts=gamma * discount[1:], values=values, bootstrap_value=baseline[-1],
      mask=mask, clip_rho_threshold=clip_rho_threshold, clip_pg_rho_threshold=clip_pg_rho_threshold)
  pg_per_step = trfl.discrete_policy_gradient(target_logits, actions, vtrace.pg_advantages)
  entropy_loss = trfl.discrete_policy_entropy_loss(target_logits)
  losses = ImpalaLosses(
      policy_gradient=tf.reduce_sum(mask * pg_per_step),
      baseline=0.5 * tf.reduce_sum(mask * tf.square(vtrace.vs - values)),
      entropy=tf.reduce_sum(mask * entropy_loss.loss))
  extra = ImpalaLossExtra(mask=mask, vs=vtrace.vs, pg_advantages=vtrace.pg_advantages * mask,
                          entropy=tf.stop_gradient(entropy_loss.extra.entropy))
  return losses, extra
