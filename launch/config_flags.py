"""The flags of a training run, derived from the config declarations: one flag per declared setting.

Each setting of `TrainConfig` and of its agent, environment and learner configs is declared once, as a
field with `settings.setting(default, help, ...)` (i2a/settings.py). `define()` turns every declared
setting that has a flag into an absl flag: its name (the field's, or the declared `flag`), its
default (the value in `TrainConfig()`, so that `python -m launch.train` with no flags runs
`TrainConfig()`; for the Sokoban settings that run leaves unset, `train_config.DEFAULT_SOKOBAN`), its
help and its choices (an enum flag). Optional settings take the word 'unset' for None; the spellings
older command lines used for unset (0, -1, 'paper') are refused with a message naming it.

We keep flat flag names (--rollout_depth, not ml_collections' --config.agent.rollout_depth): the flag
files in launch/configs/, README.md and users' scripts use them (WORKSPACE.md, "flags").
"""
from typing import Any

from absl import flags

from i2a import settings
from i2a.frame_processing import TorsoConfig
from i2a.training import train_config
from launch import common_flags

assert common_flags.UNSET == settings.UNSET


def declared_flags() -> dict[str, settings.Declared]:
  """Flag name -> the declared setting of `TrainConfig` it sets."""
  out = {}
  for declared in settings.declared(train_config.TrainConfig):
    if declared.flag is not None:
      if declared.flag in out:
        raise ValueError(f"Two settings claim the flag --{declared.flag}: {out[declared.flag].path}, "
                         f"{declared.path}.")
      out[declared.flag] = declared
  return out


def flag_default(declared: settings.Declared) -> Any:
  """The flag's default: the setting's value in `TrainConfig()` (or in `DEFAULT_SOKOBAN`)."""
  value = settings.get(train_config.TrainConfig(), declared.path)
  return train_config.DEFAULT_SOKOBAN.get(declared.path, value) if value is None else value


def _torso_text(torso: TorsoConfig) -> str:
  return ",".join(f"{c}:{k}:{s}" for c, k, s in zip(torso.channels, torso.kernel_shapes, torso.strides))


class _SettingParser(flags.ArgumentParser):
  """Parses one setting's flag text: the word 'unset' for None, else the setting's own type."""

  def __init__(self, declared: settings.Declared):
    self._declared = declared
    kind = declared.value_type
    if declared.choices:
      self._inner = flags.EnumParser(list(declared.choices))
    elif declared.parse is not None:
      self._inner = None
    else:
      self._inner = {int: flags.IntegerParser(), float: flags.FloatParser(), str: flags.ArgumentParser()}[kind]

  def parse(self, argument):
    d = self._declared
    if not isinstance(argument, str):  # A default, given as a value.
      return argument
    if argument == settings.UNSET:
      if not d.optional:
        raise ValueError(f"--{d.flag} cannot be {settings.UNSET}: it always has a value.")
      return None
    refused = ValueError(f"{argument!r} no longer means unset; write --{d.flag}={settings.UNSET}.")
    if argument in d.old_unset:
      raise refused
    value = d.parse(argument) if self._inner is None else self._inner.parse(argument)
    if not isinstance(value, str) and value in d.old_unset:
      raise refused
    return value

  def flag_type(self):
    return self._declared.value_type.__name__


class _SettingSerializer(flags.ArgumentSerializer):

  def serialize(self, value):
    if value is None:
      return settings.UNSET
    return _torso_text(value) if isinstance(value, TorsoConfig) else str(value)


_DEFINED_HERE: set[str] = set()  # Flags that carry their declaration (adopted ones included).


def define(*names: str) -> None:
  """Defines the flags `names` of a training run (all of them if none are named) that are not yet
  defined in this process, and lists them in the calling binary's --help. Flags that
  launch/common_flags.py defined first for binaries with no TensorFlow (--seed, --num_boxes) are
  adopted: they take the declared parser, default and help."""
  module = common_flags._caller_module()  # pylint: disable=protected-access
  every = declared_flags()
  unknown = sorted(set(names) - set(every))
  if unknown:
    raise ValueError(f"Not settings of a training run: {unknown}.")
  for name in names or every:
    declared = every[name]
    default = flag_default(declared)
    help_text = declared.help + (f" One of: {', '.join(declared.choices)}." if declared.choices else "")
    if name not in _DEFINED_HERE:
      if name in flags.FLAGS:  # Defined by launch/common_flags.py: adopted.
        flag = flags.FLAGS[name]
        flag.parser, flag.serializer, flag.help = _SettingParser(declared), _SettingSerializer(), help_text
        flags.FLAGS.set_default(name, default)
      elif declared.value_type is bool:
        flags.DEFINE_boolean(name, default, help_text, module_name=module)
      else:
        flags.DEFINE(_SettingParser(declared), name, default, help_text, serializer=_SettingSerializer(),
                     module_name=module)
      _DEFINED_HERE.add(name)
    flags.FLAGS.register_key_flag_for_module(module, flags.FLAGS[name])
  common_flags.define_renamed()


def names() -> tuple[str, ...]:
  """The flags of a training run."""
  return tuple(declared_flags())
