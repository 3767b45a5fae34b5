"""What every launch binary shares: its shared flags, defined on demand, and one-line errors.

absl flag names are global to a process, so a name that more than one binary uses is defined in one
place: the settings of a training run (--game, --agent, --seed, --batch_size, ...) in
launch/config_flags.py, derived from the config declarations (i2a/settings.py); the few other shared
names (--output_dir, --episodes, --num_envs, ...) in `SHARED` below. A binary defines the groups it
uses, and only those (`define`), so it refuses every flag it does not read; this module imports no
TensorFlow, so binaries that need none (launch.generate_levels, launch.minipacman_random_play) load none.

A binary that needs other defaults than a shared flag's names them in one visible dict and reads its
flags through `settings` (the dict's value wherever the flag was not given).

On the command line, `UNSET` (the word 'unset') is the library's None for every optional flag.
"""
import os
import sys
import types

from absl import app
from absl import flags

UNSET = "unset"  # i2a/settings.py's UNSET; the library is not imported here (no TensorFlow).

# The shared flags that are not settings of a training run: name -> (DEFINE function, default, help).
SHARED = {
    "output_dir": (flags.DEFINE_string, None, "Output directory (required where the binary has no default)."),
    "agent_checkpoint": (flags.DEFINE_string, None, "A trained agent: a launch.train --logdir, its "
                         "checkpoints/ directory, or a checkpoint prefix."),
    "games": (flags.DEFINE_list, ["minipacman", "sokoban"], "Games to measure or describe."),
    "agents": (flags.DEFINE_list, ["standard", "copy", "i2a"], "Agent variants to measure or describe."),
    "seconds": (flags.DEFINE_float, 10.0, "Seconds per measurement."),
    "num_envs": (flags.DEFINE_integer, 16, "Environment copies stepped together."),
    "num_levels": (flags.DEFINE_integer, 200, "Sokoban levels to play or label."),
    "episodes": (flags.DEFINE_integer, 50, "MiniPacman episodes per task."),
    "frame_cap": (flags.DEFINE_integer, None, "MiniPacman steps per episode; unset: the game's."),
    "steps": (flags.DEFINE_integer, 20_000, "Optimizer updates in total."),
    # Settings of a training run that binaries with no TensorFlow also read; launch/config_flags.py
    # gives them the declared default and help where it is loaded.
    "seed": (flags.DEFINE_integer, 0, "Seed."),
    "num_boxes": (flags.DEFINE_integer, 1, "Sokoban boxes per level."),
}


# Flags renamed so that each concept has one name (issue 21): old name -> new name. The old names still
# parse, with a one-line deprecation warning, wherever the new one is defined.
RENAMED = {"env": "game", "out": "output_dir", "eval_envs": "num_envs", "eval_seed": "seed", "variants": "agents"}


class _RenamedParser(flags.ArgumentParser):
  """Parses an old flag name: warns, and gives the value to the flag's new name."""

  def __init__(self, old: str, new: str):
    self._old, self._new = old, new

  def parse(self, argument):
    if argument is not None:
      sys.stderr.write(f"warning: --{self._old} is deprecated; use --{self._new}.\n")
      flags.FLAGS[self._new].parse(argument)
    return argument


def define_renamed() -> None:
  """Defines the old names of `RENAMED` whose new name is defined in this process."""
  for old, new in RENAMED.items():
    if new in flags.FLAGS and old not in flags.FLAGS:
      flags.DEFINE(_RenamedParser(old, new), old, None, f"Deprecated: --{new}.")


def _caller_module(depth: int = 2) -> str:
  """How absl names the module `depth` frames up: its __name__, or argv[0] for the main module."""
  caller = sys._getframe(depth).f_globals["__name__"]  # pylint: disable=protected-access
  return sys.argv[0] if caller == "__main__" else caller


def define(*names: str) -> None:
  """Defines the shared flags `names` (those not yet defined in this process) and lists them in the
  calling binary's --help."""
  module = _caller_module()
  for name in names:
    if name not in flags.FLAGS:
      define_fn, default, help_text = SHARED[name]
      define_fn(name, default, help_text, module_name=module)
    flags.FLAGS.register_key_flag_for_module(module, flags.FLAGS[name])
  define_renamed()


def settings(fv: flags.FlagValues, defaults: dict, names) -> types.SimpleNamespace:
  """The flags `names` as attributes: each flag's value where it was given on the command line (or in a
  flag file), else the binary's `defaults` entry, else the flag's default."""
  return types.SimpleNamespace(**{n: fv[n].value if fv[n].present or n not in defaults else defaults[n]
                                  for n in names})


def guard(main):
  """`main`, where a user's mistake (a flag, a file, a checkpoint, a busy or unwritable directory, an
  unreachable cluster) ends the program with one line naming it and exit status 1, no traceback."""

  def guarded(argv):
    from i2a.training import checkpointing  # pylint: disable=g-import-not-at-top  # TensorFlow: once running.
    from i2a.training import rundir  # pylint: disable=g-import-not-at-top
    try:
      return main(argv)
    except (app.UsageError, rundir.RunDirectoryError, checkpointing.CheckpointError,
            ConnectionError) as error:
      message = " ".join(str(error).split())
      sys.exit(f"{os.path.basename(argv[0]) if argv else 'launch'}: error: {message}")

  return guarded


def run_main(main) -> None:
  """`app.run(guard(main))`: absl's start-up with one-line errors for user mistakes."""
  app.run(guard(main))
