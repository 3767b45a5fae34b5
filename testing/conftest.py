"""Shared pytest setup: quiet TensorFlow, and parse launch binaries' flags (global or in isolation)."""
import os

from absl import flags
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture
def parse_train_config():
  """Parses args into the global FLAGS (launch.train's, plus any binary's the test module imported) and
  returns launch.train's TrainConfig; the flags are unparsed afterwards."""
  from launch import train  # pylint: disable=g-import-not-at-top

  def _parse(*args):
    flags.FLAGS.unparse_flags()
    flags.FLAGS(["train", *args])
    return train.config_from_flags(flags.FLAGS)

  yield _parse
  flags.FLAGS.unparse_flags()


@pytest.fixture
def parse_flags():
  """Parses args as the binary would: launch.train's flags plus the binary's own, in a private FlagValues."""
  parsed = []

  def _parse(binary, *args):
    """binary: a launch module with `define_flags(fv)` (collect, imagine)."""
    fv = flags.FlagValues()
    fv.append_flag_values(flags.FLAGS)  # launch.train's flags (shared with collect and imagine).
    binary.define_flags(fv)
    fv(["binary", *args])
    parsed.append(fv)
    return fv

  yield _parse
  for fv in parsed:
    fv.unparse_flags()  # The Flag objects are shared with the global FLAGS.
