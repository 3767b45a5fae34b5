"""V-trace targets and IMPALA losses against the naive NumPy reference in numpy_vtrace.py."""
import numpy as np
import pytest
import tensorflow as tf

from i2a import rl_losses
from testing import numpy_vtrace

F, M, L = numpy_vtrace.FIRST, numpy_vtrace.MID, numpy_vtrace.LAST


def _random_unroll(rng, num_steps, batch, num_actions=4, step_type=None):
  """Random [T+1, B] inputs; behaviour and target logits differ so the rhos are not 1."""
  if step_type is None:
    step_type = np.full([num_steps + 1, batch], M, np.int32)
  step_type = np.asarray(step_type, np.int32)
  discount = np.where(step_type == L, rng.choice([0.0, 1.0], size=step_type.shape), 1.0)
  return dict(step_type=step_type,
              reward=rng.normal(size=step_type.shape).astype(np.float32),
              discount=discount.astype(np.float32),
              action=rng.integers(0, num_actions, size=step_type.shape).astype(np.int32),
              behaviour_logits=rng.normal(size=step_type.shape + (num_actions,)).astype(np.float32),
              policy_logits=rng.normal(size=step_type.shape + (num_actions,)).astype(np.float32),
              baseline=rng.normal(size=step_type.shape).astype(np.float32))


def _losses(unroll, gamma=0.9, clip_rho=1.0, clip_pg_rho=1.0):
  @tf.function
  def run(inputs):
    return rl_losses.impala_losses(**inputs, gamma=gamma, clip_rho_threshold=clip_rho,
                                   clip_pg_rho_threshold=clip_pg_rho)
  losses, extra = run({k: tf.constant(v) for k, v in unroll.items()})
  return tf.nest.map_structure(lambda x: x.numpy(), (losses, extra))


@pytest.mark.parametrize("num_steps,batch,clip_rho,clip_pg_rho", [
    pytest.param(1, 1, 1.0, 1.0, id="T1_B1"),
    pytest.param(5, 3, 1.0, 1.0, id="T5_B3"),
    pytest.param(20, 2, 1.0, 1.0, id="T20_B2"),
    pytest.param(7, 4, None, None, id="unclipped"),
    pytest.param(6, 2, 0.5, 2.0, id="other_thresholds"),
])
def test_vtrace_returns_match_numpy(num_steps, batch, clip_rho, clip_pg_rho):
  rng = np.random.default_rng(num_steps * 10 + batch)
  shape = [num_steps, batch]
  target = rng.normal(size=shape + [3]).astype(np.float32)
  behaviour = rng.normal(size=shape + [3]).astype(np.float32)
  actions = rng.integers(0, 3, size=shape).astype(np.int32)
  rewards = rng.normal(size=shape).astype(np.float32)
  discounts = (0.95 * rng.integers(0, 2, size=shape)).astype(np.float32)
  values = rng.normal(size=shape).astype(np.float32)
  bootstrap = rng.normal(size=[batch]).astype(np.float32)

  returns = tf.function(rl_losses.vtrace_returns)(
      target, behaviour, actions, rewards, discounts, values, bootstrap, tf.ones(shape),
      clip_rho_threshold=clip_rho, clip_pg_rho_threshold=clip_pg_rho)

  pick = lambda lp: np.take_along_axis(lp, actions[..., None], -1)[..., 0]
  log_rhos = pick(numpy_vtrace.log_softmax(target)) - pick(numpy_vtrace.log_softmax(behaviour))
  vs, adv = numpy_vtrace.vtrace(log_rhos, discounts, rewards, values, bootstrap, clip_rho, clip_pg_rho)
  np.testing.assert_allclose(returns.vs.numpy(), vs, rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(returns.pg_advantages.numpy(), adv, rtol=1e-5, atol=1e-5)
  assert returns.vs.shape == (num_steps, batch) and returns.vs.dtype == tf.float32


@pytest.mark.parametrize("step_type", [
    pytest.param([[M], [M], [M], [M], [M]], id="no_boundary"),
    pytest.param([[F, M], [M, M], [L, M], [F, M], [M, L], [M, F]], id="last_then_first_inside"),
    pytest.param([[L, M], [F, M], [M, M], [M, M]], id="last_at_step_zero"),
    pytest.param([[M, M], [M, M], [M, L], [L, F]], id="boundary_at_the_end"),
    pytest.param([[M], [L], [F], [L], [F], [M]], id="one_step_episode"),
])
@pytest.mark.parametrize("gamma", [pytest.param(0.99, id="g099"), pytest.param(0.5, id="g05")])
def test_impala_losses_match_episode_by_episode_reference(step_type, gamma):
  rng = np.random.default_rng(len(step_type))
  unroll = _random_unroll(rng, len(step_type) - 1, len(step_type[0]), step_type=step_type)
  losses, extra = _losses(unroll, gamma=gamma)
  ref = numpy_vtrace.episode_losses(**unroll, gamma=gamma)
  np.testing.assert_allclose(losses.policy_gradient, ref["policy_gradient"], rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(losses.baseline, ref["baseline"], rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(losses.entropy, ref["entropy"], rtol=1e-5, atol=1e-5)
  assert extra.mask.sum() == ref["num_valid"]
  np.testing.assert_allclose((extra.entropy * extra.mask).sum(), ref["entropy_sum"], rtol=1e-5)


def test_masked_transition_inputs_do_not_matter():
  """Everything a boundary-crossing transition touches (a_LAST, mu(LAST), r at FIRST) is ignored."""
  rng = np.random.default_rng(0)
  unroll = _random_unroll(rng, 5, 2, step_type=[[M, M], [M, M], [L, M], [F, M], [M, M], [M, M]])
  base, _ = _losses(unroll)
  changed = dict(unroll)
  for key in ("reward", "discount", "action"):
    changed[key] = unroll[key].copy()
  changed["reward"][3, 0] = np.nan  # The reward and discount of a reset are undefined in dm_env.
  changed["discount"][3, 0] = np.nan
  changed["action"][2, 0] = (unroll["action"][2, 0] + 1) % 4  # a_LAST, ignored by the environment.
  changed["behaviour_logits"] = unroll["behaviour_logits"].copy()
  changed["behaviour_logits"][2, 0] = np.nan
  after, _ = _losses(changed)
  for name in ("policy_gradient", "baseline", "entropy"):
    np.testing.assert_allclose(getattr(after, name), getattr(base, name), rtol=1e-6)
  # A control: a reward change on a MID step must change the losses.
  changed["reward"][4, 1] += 100.0
  assert not np.isclose(_losses(changed)[0].baseline, base.baseline)


def test_time_limit_end_bootstraps_from_last_value():
  """Discount 1 at LAST (a time-limit end): the last transition's target is r + gamma V(o_LAST)."""
  unroll = _random_unroll(np.random.default_rng(1), 3, 1, step_type=[[M], [L], [F], [M]])
  unroll["discount"][1, 0] = 1.0
  unroll["behaviour_logits"] = unroll["policy_logits"]  # on-policy: rho = 1.
  _, extra = _losses(unroll, gamma=0.9)
  expected = unroll["reward"][1, 0] + 0.9 * unroll["baseline"][1, 0]
  np.testing.assert_allclose(extra.vs[0, 0], expected, rtol=1e-5)
  np.testing.assert_allclose(extra.vs[1, 0], unroll["baseline"][1, 0], rtol=1e-6)  # masked: V(x_t).
  assert extra.pg_advantages[1, 0] == 0.0


def test_gradients_reach_only_what_each_loss_should():
  unroll = _random_unroll(np.random.default_rng(2), 4, 2, step_type=[[M, M], [L, M], [F, M], [M, M],
                                                                     [M, M]])
  logits = tf.Variable(unroll.pop("policy_logits"))
  baseline = tf.Variable(unroll.pop("baseline"))

  @tf.function
  def grads():
    with tf.GradientTape(persistent=True) as tape:
      losses, _ = rl_losses.impala_losses(**unroll, policy_logits=logits, baseline=baseline, gamma=0.9)
    return [tape.gradient(loss, [logits, baseline]) for loss in losses]

  (pg_logits, pg_base), (base_logits, base_base), (ent_logits, ent_base) = grads()
  assert pg_base is None and base_logits is None and ent_base is None
  for grad in (pg_logits, ent_logits):
    assert np.all(grad.numpy()[1, 0] == 0.0) and np.all(grad.numpy()[-1] == 0.0)  # masked, bootstrap.
    assert np.any(grad.numpy()[0, 0] != 0.0)
  assert base_base.numpy()[1, 0] == 0.0 and base_base.numpy()[0, 0] != 0.0


@pytest.mark.parametrize("mode", ["none", "abs_one", "soft_asymmetric"])
def test_clip_rewards(mode):
  rewards = np.array([-20.0, -1.5, -0.3, 0.0, 0.4, 2.0, 11.0], np.float32)
  expected = {"none": rewards, "abs_one": np.clip(rewards, -1, 1),
              "soft_asymmetric": 5 * np.tanh(rewards / 5) * np.where(rewards < 0, 0.3, 1.0)}[mode]
  np.testing.assert_allclose(rl_losses.clip_rewards(tf.constant(rewards), mode).numpy(), expected,
                             rtol=1e-6)


def test_clip_rewards_rejects_unknown_mode():
  with pytest.raises(ValueError, match="reward_clipping 'clip'"):
    rl_losses.clip_rewards(tf.zeros([2]), "clip")


def test_valid_transitions():
  step_type = tf.constant([[F, M], [M, L], [L, F], [F, M]], tf.int32)
  np.testing.assert_array_equal(rl_losses.valid_transitions(step_type).numpy(),
                                [[1, 1], [1, 0], [0, 1]])
