"""i2a.sampling: uniforms strictly inside (0, 1) for every hash, and a sampler no hash can force."""
import numpy as np
import tensorflow as tf

from i2a import sampling


def test_largest_hashes_give_uniforms_below_one_and_finite_gumbel_noise():
  # The 128 largest 32-bit hashes are exactly the ones float32 rounds up to 1.0.
  bits = tf.constant([0, 1, 2**31, 2**32 - 129, 2**32 - 128, 2**32 - 1], tf.int64)
  uniform = sampling.uniform_from_bits(bits).numpy()
  assert uniform.dtype == np.float64
  assert np.all(uniform > 0) and np.all(uniform < 1)
  np.testing.assert_array_equal(uniform, (bits.numpy().astype(np.float64) + 0.5) / 2.0**32)
  gumbel = -np.log(-np.log(uniform))
  assert np.all(np.isfinite(gumbel))
  # The bug this guards against: the same uniforms in float32 reach 1.0 (Gumbel noise +inf).
  assert np.float32(uniform[-1]) == 1.0 and np.float32(uniform[-3]) < 1.0


def test_hashed_uniforms_are_strictly_inside_the_unit_interval_and_uniform():
  uniform = sampling.hashed_uniform(tf.constant(7, tf.int64), tf.constant(3, tf.int64),
                                    tf.constant([200_000], tf.int64)).numpy()
  assert uniform.dtype == np.float64 and uniform.shape == (200_000,)
  assert uniform.min() > 0 and uniform.max() < 1
  # 200k draws: each decile holds 10% +- 0.5% (about 7.5 standard deviations).
  counts = np.histogram(uniform, bins=10, range=(0, 1))[0] / uniform.size
  np.testing.assert_allclose(counts, 0.1, atol=0.005)


def test_a_sampler_draws_the_same_eagerly_and_under_xla():
  logits = tf.math.log(tf.tile(tf.constant([[0.1, 0.2, 0.3, 0.4]]), [64, 1]))
  eager = sampling.Sampler(seed=5)
  compiled = sampling.Sampler(seed=5)
  draw = tf.function(compiled.__call__, jit_compile=True)
  for _ in range(3):
    np.testing.assert_array_equal(eager(logits).numpy(), draw(logits).numpy())


def test_sampled_frequencies_follow_the_softmax():
  probs = np.array([0.05, 0.15, 0.3, 0.5], np.float32)
  draws = sampling.Sampler(seed=11)(tf.math.log(tf.tile(probs[None], [100_000, 1]))).numpy()
  assert draws.dtype == np.int32
  freq = np.bincount(draws, minlength=4) / draws.size
  np.testing.assert_allclose(freq, probs, atol=0.01)  # >= 6 standard deviations for each action.
