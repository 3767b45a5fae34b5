"""Every talk module, through eager, tf.function, jit_compile=True, unknown batch size and checkpoint
round-trip, at batch sizes 1 and 3, giving the same numbers: one list of cases (module_cases.py), one
parameterised test, as Sonnet's own conformance tests are built."""
import numpy as np
import pytest
import tensorflow as tf

from testing import module_cases

CASE_IDS = [case.name for case in module_cases.CASES]
BATCH_SIZES = (1, 3)


def _run(module, inputs, mode):
  module_cases.reset_samplers(module)
  if mode == "eager":
    fn = module
  elif mode == "function":
    fn = tf.function(module)
  elif mode == "jit_compile":
    fn = tf.function(module, jit_compile=True)
  elif mode == "unknown_batch":
    fn = tf.function(module, input_signature=module_cases.unknown_batch_signature(inputs))
  else:
    raise ValueError(mode)
  return module_cases.as_numpy(fn(*[tf.constant(x) for x in inputs]))


def _assert_same(actual, expected):
  tf.nest.assert_same_structure(actual, expected)
  for a, e in zip(tf.nest.flatten(actual), tf.nest.flatten(expected)):
    assert a.shape == e.shape and a.dtype == e.dtype
    np.testing.assert_allclose(a, e, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("batch_size", BATCH_SIZES)
@pytest.mark.parametrize("case", module_cases.CASES, ids=CASE_IDS)
@pytest.mark.parametrize("mode", ["function", "jit_compile", "unknown_batch"])
def test_mode_matches_eager(case, batch_size, mode):
  module = case.build()
  inputs = case.inputs(batch_size)
  expected = _run(module, inputs, "eager")
  _assert_same(_run(module, inputs, mode), expected)


@pytest.mark.parametrize("case", module_cases.CASES, ids=CASE_IDS)
def test_outputs_have_leading_batch_axis(case):
  module = case.build()
  for batch_size in BATCH_SIZES:
    outputs = _run(module, case.inputs(batch_size), "eager")
    for output in tf.nest.flatten(outputs):
      assert output.shape[0] == batch_size
      assert np.all(np.isfinite(output))


@pytest.mark.parametrize("case", module_cases.CASES, ids=CASE_IDS)
def test_batch_entries_are_independent(case):
  """Entry 0 of a batch of 3 equals the same input run alone (no mixing across the batch axis).

  This holds for the sampling modules too: the sampler hashes each logit's row-major index, and every
  module keeps the batch axis outermost (ImagPath flattens [B, A] batch-major), so row 0 draws the same
  uniforms whatever the batch size.
  """
  module = case.build()
  inputs = case.inputs(3)
  batched = _run(module, inputs, "eager")
  alone = _run(module, tuple(x[:1] for x in inputs), "eager")
  for b, a in zip(tf.nest.flatten(batched), tf.nest.flatten(alone)):
    np.testing.assert_allclose(b[:1], a, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", module_cases.CASES, ids=CASE_IDS)
def test_checkpoint_round_trip(case, tmp_path):
  inputs = case.inputs(3)
  module = case.build()
  _run(module, inputs, "eager")  # Creates the variables.
  module_cases.reset_samplers(module)
  path = tf.train.Checkpoint(module=module).write(str(tmp_path / "ckpt"))
  expected = module_cases.as_numpy(module(*[tf.constant(x) for x in inputs]))

  restored = case.build()
  _run(restored, inputs, "eager")  # Different initial weights and sampling state until restored.
  tf.train.Checkpoint(module=restored).read(path).assert_consumed()
  # The sampling state was saved after the reset, so the restored module draws the same actions.
  actual = module_cases.as_numpy(restored(*[tf.constant(x) for x in inputs]))
  _assert_same(actual, expected)
