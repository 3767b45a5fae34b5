"""The resolved config of a training run, stored in its logdir as `config.json`.

`train` writes it when a run starts, so that evaluation, data collection and pictures of imagination
rebuild the very agent that was trained (`load`), and so that a resumed run can refuse settings that
would silently change the experiment (`differences`): a restored optimiser, for instance, keeps its
old learning rate whatever a new flag says.

Settings that may change on resume (how long, how often, on how many actors, where) are those declared
with the RESUME scope (`train_config.MAY_CHANGE_ON_RESUME`, i2a/settings.py); any other difference is
refused unless the caller allows it.

Older runs stored the game settings twice, in the agent's and in the environment's config; `load`
reads them into today's form, where they are the agent's alone (`_moved_geometry`).
"""
import dataclasses
import json
import os
import types
import typing
from typing import Any, Optional

from absl import logging

from i2a import games
from i2a.training import rundir
from i2a.training.train_config import MAY_CHANGE_ON_RESUME
from i2a.training.train_config import TrainConfig

CONFIG_FILE = "config.json"
_GEOMETRY_FIELDS = tuple(f.name for f in dataclasses.fields(games.Geometry))


class ConfigChangeError(ValueError):
  """A resumed run's config differs from the stored one in settings that change the experiment."""


def to_dict(config) -> dict:
  """A dataclass (recursively) as JSON-able Python: tuples become lists."""
  return json.loads(json.dumps(dataclasses.asdict(config)))


def from_dict(cls, values: dict, where: str = "config"):
  """Rebuilds dataclass `cls` from `to_dict` output; nested dataclasses and tuples are restored.

  Fields missing from `values` take their defaults; unknown ones are ignored with a warning.
  """
  hints = typing.get_type_hints(cls)
  names = {f.name for f in dataclasses.fields(cls)}
  unknown = sorted(set(values) - names)
  if unknown:
    logging.warning("%s: ignoring fields this version does not know: %s", where, unknown)
  kwargs = {}
  for name in names & set(values):
    kwargs[name] = _convert(hints[name], values[name], f"{where}.{name}")
  return cls(**kwargs)


def _convert(hint, value, where: str) -> Any:
  if value is None:
    return None
  is_union = typing.get_origin(hint) in (typing.Union, types.UnionType)
  options = [a for a in typing.get_args(hint) if a is not type(None)] if is_union else [hint]
  for option in options:
    if dataclasses.is_dataclass(option) and isinstance(value, dict):
      return from_dict(option, value, where)
  if isinstance(value, list):
    return tuple(value)
  return value


def path(logdir: str) -> str:
  return os.path.join(logdir, CONFIG_FILE)


def save(config, logdir: str) -> None:
  """Writes `config` (a TrainConfig) as `<logdir>/config.json`, atomically."""
  rundir.atomic_write(path(logdir), (json.dumps(to_dict(config), indent=1, sort_keys=True) + "\n").encode())


def load(logdir: str, cls: type = TrainConfig):
  """The TrainConfig stored in `logdir`, or None if it has none (older files migrated: `_migrated`).

  Raises:
    ValueError: the file exists but cannot be read (naming it).
  """
  file = path(logdir)
  if not os.path.exists(file):
    return None
  try:
    with open(file) as f:
      return from_dict(cls, _migrated(json.load(f)), where=file)
  except (OSError, ValueError, TypeError) as error:
    raise ValueError(f"Cannot read the stored run config {file}: {error}") from error


def completed(values: dict, where: str = "config") -> dict:
  """A stored TrainConfig's values (older files migrated) with every setting today's TrainConfig has,
  those it did not store at their defaults: what the run actually used, comparable across versions.

  Raises:
    ValueError, TypeError: the values do not make a TrainConfig.
  """
  return to_dict(from_dict(TrainConfig, _migrated(values), where=where))


def _migrated(values: dict) -> dict:
  """`values` (a stored TrainConfig, as older versions wrote it) in today's form."""
  return _moved_geometry(values)


def _moved_geometry(values: dict) -> dict:
  """`values` (a stored TrainConfig) with the game settings that older versions also stored in the
  environment's config ('env.game', 'env.task', 'env.room_size', 'env.pixels_per_cell') removed; they
  always equalled the agent's, which is checked.

  Raises:
    ValueError: the two disagree (a file edited by hand).
  """
  env, agent = values.get("env"), values.get("agent")
  if not isinstance(env, dict) or not isinstance(agent, dict) or not set(_GEOMETRY_FIELDS) & set(env):
    return values
  if "game" in env and "game" in agent:
    defaults = {f.name: f.default for f in dataclasses.fields(games.Geometry) if f.name != "game"}
    of_env, of_agent = (games.Geometry(**{**defaults, **{n: c[n] for n in _GEOMETRY_FIELDS if n in c}})
                        for c in (env, agent))
    if of_env != of_agent:
      raise ValueError(f"its agent is built for {of_agent} but its environment is {of_env}")
  return dict(values, env={k: v for k, v in env.items() if k not in _GEOMETRY_FIELDS})


def _flatten(values: dict, prefix: str = "") -> dict:
  out = {}
  for key, value in values.items():
    if isinstance(value, dict):
      out.update(_flatten(value, f"{prefix}{key}."))
    else:
      out[f"{prefix}{key}"] = value
  return out


def differences(stored, new, ignore: tuple = MAY_CHANGE_ON_RESUME) -> list[str]:
  """'field: stored -> new' for every field that differs, except those in `ignore`."""
  old, now = _flatten(to_dict(stored)), _flatten(to_dict(new))
  return [f"{key}: {old.get(key)!r} -> {now.get(key)!r}" for key in sorted(set(old) | set(now))
          if key not in ignore and old.get(key) != now.get(key)]


def check_resume(stored: Optional[Any], new, allow_changes: bool = False) -> list[str]:
  """Compares a resumed run's config with the stored one.

  Returns:
    The differences that alter the experiment (logged as warnings when `allow_changes`).

  Raises:
    ConfigChangeError (a ValueError): naming each difference, unless `allow_changes` (or nothing is
      stored).
  """
  if stored is None:
    return []
  changed = differences(stored, new)
  if changed and not allow_changes:
    raise ConfigChangeError(
        f"This logdir holds a run with another config ({'; '.join(changed)}); resume it with the stored "
        "settings, use another logdir, or allow the change (--allow_config_change; only "
        f"{', '.join(MAY_CHANGE_ON_RESUME)} may change freely).")
  for change in changed:
    logging.warning("Resuming with a changed setting (allowed): %s", change)
  return changed
