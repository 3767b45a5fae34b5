"""Shared pytest setup: quiet TensorFlow, seed every test, and parse launch binaries' flags.

Seeds: before each test the global seeds of TensorFlow, NumPy and `random` are set to `--seed_offset`
(default 0, or the environment variable I2A_TEST_SEED_OFFSET), so no test depends on what ran before
it. To hunt for tests whose assertions hold for one seed only, run the suite with
`--seed_offset=K --shift_explicit_seeds`: every seed a test passes to tf.random.set_seed,
tf.random.Generator.from_seed, np.random.seed, np.random.default_rng or np.random.RandomState is then
shifted by K as well (golden-value tests, which pin exact outputs of a seed, are expected to differ;
statistical assertions are not).
"""
import os
import random

from absl import flags
import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def pytest_addoption(parser):
  parser.addoption("--seed_offset", type=int, default=int(os.environ.get("I2A_TEST_SEED_OFFSET", "0")),
                   help="Global seed of every test (default 0); see testing/conftest.py.")
  parser.addoption("--shift_explicit_seeds", action="store_true",
                   help="Also shift the seeds tests pass explicitly by --seed_offset.")


def _shifted(function, offset):
  def call(seed=None, *args, **kwargs):
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
      seed = int(seed) + offset
    return function(seed, *args, **kwargs)
  return call


@pytest.fixture(autouse=True)
def _seed_every_test(request, monkeypatch):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  offset = request.config.getoption("--seed_offset")
  tf.random.set_seed(offset)
  np.random.seed(offset)
  random.seed(offset)
  if offset and request.config.getoption("--shift_explicit_seeds"):
    monkeypatch.setattr(tf.random, "set_seed", _shifted(tf.random.set_seed, offset))
    monkeypatch.setattr(tf.random.Generator, "from_seed", _shifted(tf.random.Generator.from_seed, offset))
    monkeypatch.setattr(np.random, "seed", _shifted(np.random.seed, offset))
    monkeypatch.setattr(np.random, "default_rng", _shifted(np.random.default_rng, offset))

    class ShiftedRandomState(np.random.RandomState):  # A class still: NumPy checks isinstance with it.

      def __init__(self, seed=None):
        if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
          seed = int(seed) + offset
        super().__init__(seed)

    monkeypatch.setattr(np.random, "RandomState", ShiftedRandomState)


@pytest.fixture
def parse_train_config():
  """Parses args into the global FLAGS (the shared flags of launch/common_flags.py, plus those of every
  binary imported) and returns the experiment's TrainConfig; the flags are unparsed afterwards."""
  from launch import flags_to_config  # pylint: disable=g-import-not-at-top

  def _parse(*args):
    flags.FLAGS.unparse_flags()
    flags.FLAGS(["train", *args])
    return flags_to_config.train_config_from_flags(flags.FLAGS)

  yield _parse
  flags.FLAGS.unparse_flags()


@pytest.fixture
def parse_flags():
  """Parses args into the global FLAGS as a binary would (every launch binary defines its flags at
  import, the shared ones in launch/common_flags.py); returns FLAGS and unparses them afterwards."""

  def _parse(binary, *args):
    """binary: the launch module whose command line `args` is (imported, so its flags are defined)."""
    flags.FLAGS.unparse_flags()
    flags.FLAGS([binary.__name__, *args])
    return flags.FLAGS

  yield _parse
  flags.FLAGS.unparse_flags()
