"""Seedable categorical sampling that gives the same draws eagerly, in tf.function and under XLA.

The talk samples with TF1's `tf.multinomial`. We draw Gumbel noise from a module-owned
`tf.random.Generator` instead (Gumbel-max trick: argmax(logits + G) ~ Categorical(softmax(logits))), so a
seed makes a module's actions reproducible, the generator's state is checkpointed with the module, and
the op compiles with `jit_compile=True`.
"""
from typing import Optional

import tensorflow as tf


def make_generator(seed: Optional[int]) -> tf.random.Generator:
  """A Philox generator seeded with `seed`, or seeded non-deterministically when `seed` is None."""
  if seed is None:
    return tf.random.Generator.from_non_deterministic_state()
  return tf.random.Generator.from_seed(seed)


def sample_categorical(generator: tf.random.Generator, logits: tf.Tensor) -> tf.Tensor:
  """Samples one action per row.

  Args:
    generator: the random source; its state advances.
    logits: float [B, A] unnormalised log-probabilities.

  Returns:
    int32 [B] indices drawn from softmax(logits).
  """
  logits = tf.convert_to_tensor(logits)
  uniform = generator.uniform(tf.shape(logits), minval=1e-20, maxval=1.0, dtype=tf.float32)
  gumbel = -tf.math.log(-tf.math.log(uniform))
  return tf.argmax(tf.cast(logits, tf.float32) + gumbel, axis=-1, output_type=tf.int32)
