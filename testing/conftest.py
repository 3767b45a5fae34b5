"""Shared pytest setup: quiet TensorFlow, and parse launch binaries' flags (global or in isolation)."""
import os

from absl import flags
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture
def parse_train_config():
  """Parses args into the global FLAGS (the shared flags of launch/common_flags.py, plus those of every
  binary imported) and returns the experiment's TrainConfig; the flags are unparsed afterwards."""
  from launch import common_flags  # pylint: disable=g-import-not-at-top

  def _parse(*args):
    flags.FLAGS.unparse_flags()
    flags.FLAGS(["train", *args])
    return common_flags.train_config_from_flags(flags.FLAGS)

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
