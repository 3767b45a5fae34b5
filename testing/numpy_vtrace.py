"""A deliberately naive NumPy V-trace, written from the IMPALA paper's equations, as a test reference.

Espeholt et al. 2018, Sec. 4.1, eq. (1), with per-step discounts gamma_t in place of gamma^k:
  v_s = V(x_s) + sum_{t=s}^{T-1} (prod_{i=s}^{t-1} gamma_i) (prod_{i=s}^{t-1} c_i) delta_t V,
  delta_t V = rho_t (r_t + gamma_t V(x_{t+1}) - V(x_t)),  rho_t = min(rho_bar, pi/mu),  c_i = min(1, pi/mu).
Sec. 4.2: the policy-gradient advantage is rho_pg_s (r_s + gamma_s v_{s+1} - V(x_s)), with v_T = V(x_T).
Everything loops over time explicitly; no recursion is shared with the code under test.
"""
import dm_env
import numpy as np

FIRST, MID, LAST = (int(t) for t in dm_env.StepType)


def log_softmax(logits: np.ndarray) -> np.ndarray:
  logits = np.asarray(logits, np.float64)
  shifted = logits - logits.max(axis=-1, keepdims=True)
  return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def vtrace(log_rhos, discounts, rewards, values, bootstrap_value, clip_rho=1.0, clip_pg_rho=1.0):
  """Naive V-trace for one or many sequences.

  Args:
    log_rhos, discounts, rewards, values: [T, B] arrays.
    bootstrap_value: [B] array, V(x_T).
    clip_rho, clip_pg_rho: rho-bar thresholds, or None for no clipping.

  Returns:
    (vs [T, B], pg_advantages [T, B]) as float64.
  """
  log_rhos, discounts, rewards, values = (np.asarray(x, np.float64)
                                          for x in (log_rhos, discounts, rewards, values))
  num_steps = log_rhos.shape[0]
  rhos = np.exp(log_rhos)
  clipped = rhos if clip_rho is None else np.minimum(clip_rho, rhos)
  cs = np.minimum(1.0, rhos)
  values_ext = np.concatenate([values, np.asarray(bootstrap_value, np.float64)[None]], axis=0)
  vs = np.zeros_like(values)
  for s in range(num_steps):
    total = values[s].copy()
    for t in range(s, num_steps):
      weight = np.ones_like(total)
      for i in range(s, t):
        weight = weight * discounts[i] * cs[i]
      delta = clipped[t] * (rewards[t] + discounts[t] * values_ext[t + 1] - values[t])
      total = total + weight * delta
    vs[s] = total
  vs_next = np.concatenate([vs[1:], values_ext[-1:]], axis=0)
  pg_rhos = rhos if clip_pg_rho is None else np.minimum(clip_pg_rho, rhos)
  return vs, pg_rhos * (rewards + discounts * vs_next - values)


def episode_losses(step_type, reward, discount, action, behaviour_logits, policy_logits, baseline, gamma,
                   clip_rho=1.0, clip_pg_rho=1.0):
  """IMPALA's losses of an unroll, computed episode by episode for each batch column separately.

  Transition t = (o_t, a_t) earns reward[t+1] and gamma * discount[t+1]. Each column is cut into runs
  of transitions that stay inside one episode (o_t not LAST and o_{t+1} not FIRST); a run ending at
  transition e bootstraps from V(o_{e+1}).

  Args:
    step_type, reward, discount, action, baseline: [T+1, B] arrays.
    behaviour_logits, policy_logits: [T+1, B, A] arrays.
    gamma: discount factor.
    clip_rho, clip_pg_rho: V-trace thresholds.

  Returns:
    dict with 'policy_gradient', 'baseline', 'entropy' (summed, unweighted, IMPALA's signs),
    'num_valid' and 'entropy_sum' (the sum of H over valid steps).
  """
  step_type, reward, discount, action, baseline = (np.asarray(x) for x in (step_type, reward, discount,
                                                                            action, baseline))
  target_lp = log_softmax(policy_logits)
  behaviour_lp = log_softmax(behaviour_logits)
  num_steps = step_type.shape[0] - 1
  out = dict(policy_gradient=0.0, baseline=0.0, entropy=0.0, num_valid=0, entropy_sum=0.0)
  for b in range(step_type.shape[1]):
    valid = [step_type[t, b] != LAST and step_type[t + 1, b] != FIRST for t in range(num_steps)]
    t = 0
    while t < num_steps:
      if not valid[t]:
        t += 1
        continue
      end = t
      while end + 1 < num_steps and valid[end + 1]:
        end += 1
      steps = np.arange(t, end + 1)
      acts = action[steps, b]
      log_pi = target_lp[steps, b, acts]
      log_rhos = log_pi - behaviour_lp[steps, b, acts]
      vs, adv = vtrace(log_rhos[:, None], gamma * discount[steps + 1, b][:, None],
                       reward[steps + 1, b][:, None], baseline[steps, b][:, None],
                       baseline[end + 1, b][None], clip_rho, clip_pg_rho)
      entropy = -(np.exp(target_lp[steps, b]) * target_lp[steps, b]).sum(-1)
      out["policy_gradient"] += float(-(adv[:, 0] * log_pi).sum())
      out["baseline"] += float(0.5 * ((vs[:, 0] - baseline[steps, b]) ** 2).sum())
      out["entropy"] += float(-entropy.sum())
      out["entropy_sum"] += float(entropy.sum())
      out["num_valid"] += len(steps)
      t = end + 1
  return out


def distillation(rollout_logits, policy_logits, mask):
  """sum_t,b mask * CE(softmax(policy), rollout): [T, B, A], [T, B, A], [T, B] -> float."""
  labels = np.exp(log_softmax(policy_logits))
  return float((mask * -(labels * log_softmax(rollout_logits)).sum(-1)).sum())
