"""One declaration per setting: a config field's default, help text, value list and scopes, in one place.

Every setting of a training run is a field of a typed frozen dataclass (`AgentConfig`, `EnvConfig`,
`LearnerConfig`, `TrainConfig`) declared with `setting(...)`:

    rollout_depth: int = setting(5, "Imagined steps per rollout (paper: 1-15).", scopes=(IMAGINATION,))

Everything else is read from these declarations (WORKSPACE.md, "one declaration per setting"): the
launch binaries' flags (launch/config_flags.py: name, default, help, choices), the flags-to-config
mapping, the settings a resumed run may change (`RESUME`), those an evaluation may override
(`EVALUATION`), and the stored config.json (i2a/training/stored_config.py). The field's check stays in
its config's `__post_init__`.

None is the one spelling of "unset" in the library (the variant's width, no clipping, never, ...); on the
command line it is the word `UNSET`.
"""
import dataclasses
import types
import typing
from typing import Any, Callable, Iterator, Optional, Sequence

# Scopes: what a setting is, beyond its value.
GAME = "game"  # One of the game settings (`games.Geometry`), which an agent and its environment share.
SOKOBAN = "sokoban"  # Only applies to Sokoban.
MINIPACMAN = "minipacman"  # Only applies to MiniPacman.
IMAGINATION = "imagination"  # Only applies to an agent with an imagination path.
LEVEL_SUPPLY = "level_supply"  # How generated Sokoban levels are supplied (not with level files).
RESUME = "resume"  # May change when a run resumes: how long, how often, where, on how many actors.
EVALUATION = "evaluation"  # An evaluation, collection or picture of a trained run may set it anew.
SCOPES = (GAME, SOKOBAN, MINIPACMAN, IMAGINATION, LEVEL_SUPPLY, RESUME, EVALUATION)

UNSET = "unset"  # The command-line word for None.
NO_FLAG = ""  # `flag=NO_FLAG`: a setting of the library only (no command-line flag).


def setting(default: Any, help: str, *, flag: Optional[str] = None,  # pylint: disable=redefined-builtin
            scopes: Sequence[str] = (), choices: Optional[Sequence[str]] = None,
            parse: Optional[Callable[[str], Any]] = None, old_unset: Sequence[Any] = (),
            at_least: Optional[float] = None, above: Optional[float] = None,
            at_most: Optional[float] = None) -> Any:
  """A dataclass field declaring one setting.

  Args:
    default: the field's default (immutable).
    help: the one-sentence help text of the setting (and of its flag).
    flag: the flag's name if it is not the field's; NO_FLAG for a setting with no flag.
    scopes: names from SCOPES.
    choices: the allowed values of a string setting (its flag is an enum).
    parse: turns the flag's text into the value, for a type that is not int, float, str or bool.
    old_unset: values that older command lines used for "unset" (0, -1); the flag refuses them with a
      message naming `UNSET`.
    at_least, above, at_most: the setting's bounds (value >= at_least, value > above, value <=
      at_most), checked by `check` with its choices; None (unset) passes, where the setting allows it.
  """
  unknown = set(scopes) - set(SCOPES)
  if unknown:
    raise ValueError(f"Unknown scopes {sorted(unknown)}; expected some of {SCOPES}.")
  metadata = dict(help=help, flag=flag, scopes=frozenset(scopes),
                  choices=None if choices is None else tuple(choices), parse=parse, old_unset=tuple(old_unset),
                  at_least=at_least, above=above, at_most=at_most)
  return dataclasses.field(default=default, metadata=metadata)


@dataclasses.dataclass(frozen=True)
class Declared:
  """One declared setting of a (nested) config.

  Attributes:
    path: the dotted field path from the root config, e.g. 'learner.learning_rate'.
    field: the dataclass field.
    value_type: the field's type without Optional (int, float, str, bool, or a dataclass such as TorsoConfig).
    optional: whether None (unset) is allowed.
  """
  path: str
  field: dataclasses.Field
  value_type: type
  optional: bool

  @property
  def help(self) -> str:
    return self.field.metadata["help"]

  @property
  def scopes(self) -> frozenset:
    return self.field.metadata["scopes"]

  @property
  def choices(self) -> Optional[tuple]:
    return self.field.metadata["choices"]

  @property
  def parse(self) -> Optional[Callable[[str], Any]]:
    return self.field.metadata["parse"]

  @property
  def old_unset(self) -> tuple:
    return self.field.metadata["old_unset"]

  @property
  def flag(self) -> Optional[str]:
    """The command-line flag's name, or None for a library-only setting."""
    name = self.field.metadata["flag"]
    return None if name == NO_FLAG else (name or self.field.name)


def check(config) -> None:
  """Checks each setting declared on `config` itself (not in its nested configs, which check their
  own) against its declared choices and bounds. A config calls this first in `__post_init__`, and keeps
  there only the checks that relate several settings.

  Raises:
    ValueError: naming the setting, the rule and the value.
  """
  name = type(config).__name__
  for field in dataclasses.fields(config):
    if "help" not in field.metadata:
      continue
    value, meta = getattr(config, field.name), field.metadata
    if value is None:
      continue
    if meta["choices"] is not None and value not in meta["choices"]:
      raise ValueError(f"Unknown {field.name} {value!r} ({name}.{field.name}); expected one of "
                       f"{meta['choices']}.")
    if meta["at_least"] is not None and value < meta["at_least"]:
      raise ValueError(f"{name}.{field.name} must be >= {meta['at_least']:g}, got {value!r}.")
    if meta["above"] is not None and not value > meta["above"]:
      raise ValueError(f"{name}.{field.name} must be > {meta['above']:g}, got {value!r}.")
    if meta["at_most"] is not None and value > meta["at_most"]:
      raise ValueError(f"{name}.{field.name} must be <= {meta['at_most']:g}, got {value!r}.")


def _unwrap(hint) -> tuple[type, bool]:
  """(type, optional) of a type hint: Optional[X] -> (X, True)."""
  if typing.get_origin(hint) in (typing.Union, types.UnionType):
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if len(args) == 1:
      return args[0], True
  return hint, False


def declared(cls: type, prefix: str = "") -> Iterator[Declared]:
  """Every setting of the dataclass `cls`, depth first; fields that are configs themselves (declared
  without `setting`, with a dataclass type) are entered, with their name as a path prefix."""
  hints = typing.get_type_hints(cls)
  for field in dataclasses.fields(cls):
    value_type, optional = _unwrap(hints[field.name])
    if "help" in field.metadata:
      yield Declared(prefix + field.name, field, value_type, optional)
    elif dataclasses.is_dataclass(value_type):
      yield from declared(value_type, f"{prefix}{field.name}.")
    else:
      raise TypeError(f"{cls.__name__}.{field.name} is not declared with settings.setting().")


def paths_with_scope(cls: type, scope: str) -> tuple[str, ...]:
  """The dotted paths of `cls`'s settings that have `scope`."""
  return tuple(d.path for d in declared(cls) if scope in d.scopes)


def get(config, path: str) -> Any:
  """The value at dotted `path` of a (nested) config."""
  for name in path.split("."):
    config = getattr(config, name)
  return config


def replaced(config, values: dict) -> Any:
  """`config` with the settings at the dotted paths of `values` replaced (nested configs rebuilt once
  each, so that every config's checks see all of its new values together)."""
  own = {p: v for p, v in values.items() if "." not in p}
  nested: dict[str, dict] = {}
  for path, value in values.items():
    if "." in path:
      head, rest = path.split(".", 1)
      nested.setdefault(head, {})[rest] = value
  own.update({head: replaced(getattr(config, head), inner) for head, inner in nested.items()})
  return dataclasses.replace(config, **own)
