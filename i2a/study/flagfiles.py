"""The values a binary's command line gives its flags, read the way absl reads them, without the binary.

    values = flagfiles.flag_values(["--flagfile=launch/configs/study_sokoban_small_i2a.flags", "--seed=3"])
    values["logdir"], values["total_frames"], values["seed"]   # Strings; the last setting wins.

A study derives what it needs to know about its runs (where a run writes, how many frames it trains)
from the very flag files the binaries read, so nothing is written down twice. Nested --flagfile lines
are expanded in place and, like absl, relative paths are read from the working directory.
"""
import os
from typing import Sequence


def read_flagfile(path: str, seen: tuple[str, ...] = ()) -> list[str]:
  """The arguments of flag file `path`, nested flag files expanded; ValueError naming a missing file."""
  if path in seen:
    raise ValueError(f"Flag file {path} includes itself (through {' -> '.join(seen)}).")
  if not os.path.isfile(path):
    raise ValueError(f"Flag file {path} does not exist (run from the repository root).")
  args = []
  with open(path) as f:
    for line in f:
      line = line.strip()
      if line and not line.startswith("#"):
        args += expand([line], seen + (path,))
  return args


def expand(args: Sequence[str], seen: tuple[str, ...] = ()) -> list[str]:
  """`args` with every --flagfile=X replaced by the arguments of X."""
  expanded = []
  for arg in args:
    if arg.startswith("--flagfile="):
      expanded += read_flagfile(arg[len("--flagfile="):], seen)
    else:
      expanded.append(arg)
  return expanded


def flag_values(args: Sequence[str]) -> dict[str, str]:
  """Flag name -> value (a string; 'true'/'false' for --name/--noname) after the last setting of each.

  Raises:
    ValueError: a flag file is missing or includes itself.
  """
  values = {}
  for arg in expand(args):
    if not arg.startswith("--"):
      continue
    name, equals, value = arg[2:].partition("=")
    if equals:
      values[name] = value
    elif name.startswith("no") and len(name) > 2:
      values[name[2:]] = "false"  # absl's --noname; a flag really named 'no...' would need '=true'.
    else:
      values[name] = "true"
  return values


def required(values: dict[str, str], name: str, where: str) -> str:
  """`values[name]`, or ValueError naming the flag and the command that lacks it."""
  if name not in values:
    raise ValueError(f"{where} sets no --{name}; the study reads it from the flag files.")
  return values[name]
