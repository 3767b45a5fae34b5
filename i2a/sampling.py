"""Seedable categorical sampling that gives the same draws eagerly, in tf.function and under XLA.

The talk samples with TF1's `tf.multinomial`. TensorFlow's random ops (stateful, `tf.random.Generator`
and even stateless Philox) draw different numbers under `jit_compile=True` than on the CPU kernels, so a
seeded agent would act differently when compiled. We instead hash (seed, counter, index) with integer
arithmetic, which every backend computes bit for bit alike, turn the hash into uniforms and sample with
the Gumbel-max trick: argmax(logits + G) ~ Categorical(softmax(logits)). The seed and counter live in a
non-trainable variable, so they are checkpointed with the module and a resumed run continues its stream.

The uniforms and the Gumbel noise are computed in float64 and only G is cast to float32. A 32-bit hash
k gives u = (k + 1/2) / 2^32, exact in float64 and strictly inside (0, 1). In float32 the largest 128
hashes round u to exactly 1.0, so G = -log(-log(u)) = +inf and that action would be chosen whatever the
logits (about 3e-8 per draw).
"""
from typing import Optional

import numpy as np
import sonnet as snt
import tensorflow as tf

_MASK32 = 0xFFFFFFFF


def _mix32(x: tf.Tensor) -> tf.Tensor:
  """A 32-bit integer finaliser (xor-shift-multiply) on int64 values in [0, 2^32); no overflow."""
  x = tf.bitwise.bitwise_and((tf.bitwise.right_shift(x, 16) ^ x) * 0x45D9F3B, _MASK32)
  x = tf.bitwise.bitwise_and((tf.bitwise.right_shift(x, 16) ^ x) * 0x45D9F3B, _MASK32)
  return tf.bitwise.right_shift(x, 16) ^ x


def uniform_from_bits(bits: tf.Tensor) -> tf.Tensor:
  """int64 hashes in [0, 2^32) -> float64 uniforms (bits + 1/2) / 2^32, exact and strictly in (0, 1)."""
  return (tf.cast(bits, tf.float64) + 0.5) / 4294967296.0


def keyed_uniform(seed: tf.Tensor, counter: tf.Tensor, index: tf.Tensor) -> tf.Tensor:
  """float64 uniforms in (0, 1), element by element: a pure function of int64 (seed, counter, index),
  which broadcast together. `hashed_uniform` is this with the flat element index; central inference
  (i2a/training/central/streams.py) keys each row by its own actor's stream with it."""
  key = _mix32(tf.bitwise.bitwise_and(seed * 0x9E3779B1 + _mix32(counter), _MASK32))
  return uniform_from_bits(_mix32(tf.bitwise.bitwise_and(key ^ _mix32(index), _MASK32)))


def hashed_uniform(seed: tf.Tensor, counter: tf.Tensor, shape: tf.Tensor) -> tf.Tensor:
  """float64 uniforms in (0, 1) of `shape`, a pure function of (seed, counter, element index)."""
  index = tf.range(tf.reduce_prod(shape), dtype=tf.int64)
  return tf.reshape(keyed_uniform(seed, counter, index), shape)


class Sampler(snt.Module):
  """Draws categorical samples from a seeded, checkpointable stream.

  Args:
    seed: starts the stream; None draws one at random (non-deterministic).
    name: module name.

  Attributes:
    state: int64 [2] non-trainable variable (seed, number of draws so far).
  """

  def __init__(self, seed: Optional[int] = None, name: str = "sampler"):
    super().__init__(name=name)
    if seed is None:
      seed = int(np.random.default_rng().integers(0, 2**31 - 1))
    self.state = tf.Variable([int(seed) & _MASK32, 0], dtype=tf.int64, trainable=False, name="state")

  def reset(self, seed: int) -> None:
    """Restarts the stream from `seed`."""
    self.state.assign([int(seed) & _MASK32, 0])

  def __call__(self, logits: tf.Tensor) -> tf.Tensor:
    """float [B, A] logits -> int32 [B] indices drawn from softmax(logits); advances the stream."""
    logits = tf.cast(tf.convert_to_tensor(logits), tf.float32)
    state = self.state.read_value()
    self.state.assign_add(tf.constant([0, 1], tf.int64))
    uniform = hashed_uniform(state[0], state[1], tf.shape(logits, out_type=tf.int64))
    gumbel = tf.cast(-tf.math.log(-tf.math.log(uniform)), tf.float32)  # Finite: see the module doc.
    return tf.argmax(logits + gumbel, axis=-1, output_type=tf.int32)
