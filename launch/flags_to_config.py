"""The flags of a training run as a `TrainConfig`: the one launch.train runs, or the one a run stored.

launch.train runs `train_config_from_flags`; launch.evaluate, launch.collect and launch.imagine rebuild a
trained agent from `stored_train_config` (the run's config.json, the flags given checked against it).
The flags are derived from the config declarations (launch/config_flags.py); so is this mapping: each
flag sets the setting it was derived from, and the scopes of the declarations (i2a/settings.py) say
which flags apply to which game and agent, and which an evaluation may set anew.
"""
import glob
import os

from absl import flags

from i2a import configs
from i2a import settings
from i2a.training import env_model_metadata
from i2a.training import environments
from i2a.training import stored_config
from i2a.training import train_config
from launch import config_flags

TrainConfig = train_config.TrainConfig


def _given(fv: flags.FlagValues, scope: str) -> list[str]:
  """The training-run flags given on the command line whose settings have `scope`."""
  return [name for name, d in config_flags.declared_flags().items() if scope in d.scopes and fv[name].present]


def train_config_from_flags(fv: flags.FlagValues = flags.FLAGS,
                            model_free_may_name_env_model: bool = False) -> TrainConfig:
  """Maps the parsed flags of a training run to a validated TrainConfig (each flag's default is the
  setting's value in `TrainConfig()`, so no flags give `TrainConfig()`).

  Args:
    fv: the parsed flags.
    model_free_may_name_env_model: accept --env_model_checkpoint with a model-free agent, leaving it out
      of the config (launch.imagine names the model it draws with this way); launch.train refuses it.

  Raises:
    ValueError: a flag value or combination of flags that is invalid, with the flags named.
  """
  game = fv.game
  other_game = {"minipacman": settings.SOKOBAN, "sokoban": settings.MINIPACMAN}[game]
  misplaced = _given(fv, other_game)
  if misplaced:
    raise ValueError(f"--{', --'.join(misplaced)} only apply to --game={other_game}.")
  if fv.levels is not None and _given(fv, settings.LEVEL_SUPPLY):
    raise ValueError(f"--{', --'.join(_given(fv, settings.LEVEL_SUPPLY))} set the supply of generated "
                     "levels; --levels reads level files instead.")
  imagines = configs.imag_path_of(fv.agent, fv.imag_path) == "imag"
  if not imagines:
    misplaced = [n for n in _given(fv, settings.IMAGINATION)
                 if not (model_free_may_name_env_model and n == "env_model_checkpoint")]
    if misplaced:
      raise ValueError(f"--{', --'.join(misplaced)} need an imagination path, but --agent={fv.agent} "
                       f"--imag_path={fv.imag_path or settings.UNSET} has none.")
  values = {d.path: fv[name].value for name, d in config_flags.declared_flags().items()}
  if not imagines:
    values["env_model_checkpoint"] = None
  return settings.replaced(TrainConfig(), values)


def check_paths(config: TrainConfig) -> None:
  """Raises ValueError for input files that do not exist or do not load (before anything starts)."""
  path = config.env_model_checkpoint
  if path and not (os.path.exists(path) or glob.glob(glob.escape(path) + ".*")):
    raise ValueError(f"--env_model_checkpoint={path!r} does not exist; train an environment model first.")
  if path:  # A model of another game, size (--env_model_size) or head: refused before anything starts.
    env_model_metadata.check_checkpoint_compatible(path, config.agent)
  if config.env.levels is not None:
    environments.build_env(config.geometry, config.env, 1, seed=0).close()  # Loads and validates the level files.


def stored_train_config(fv: flags.FlagValues, logdir: str,
                        model_free_may_name_env_model: bool = False) -> TrainConfig:
  """The config a launch.train run stored in `logdir` (stored_config.CONFIG_FILE), for rebuilding its
  agent; without a stored config, the one the flags describe.

  Flags given explicitly must agree with the stored config, except those of settings an evaluation may
  set anew (the EVALUATION scope: --levels, --seed, the system's); those replace the stored values.

  Raises:
    ValueError: an explicit flag contradicts the stored config (each difference named).
  """
  stored = stored_config.load(logdir) if os.path.isdir(logdir) else None
  from_flags = train_config_from_flags(fv, model_free_may_name_env_model)
  if stored is None:
    return from_flags
  declared = config_flags.declared_flags()
  given = [n for n, d in declared.items() if fv[n].present and settings.EVALUATION not in d.scopes
           and not (model_free_may_name_env_model and n == "env_model_checkpoint")]
  changed = [f"{declared[n].path}: {settings.get(stored, declared[n].path)!r} -> "
             f"{settings.get(from_flags, declared[n].path)!r}" for n in given
             if settings.get(stored, declared[n].path) != settings.get(from_flags, declared[n].path)]
  if changed:
    raise ValueError(f"{logdir} was trained with other settings than the flags given "
                     f"({'; '.join(changed)}); drop those flags (the stored {stored_config.CONFIG_FILE} "
                     "rebuilds the agent), or point --logdir at the run they describe.")
  overrides = {"logdir": logdir, "seed": from_flags.seed}
  if fv["levels"].present:
    overrides["env.levels"] = fv.levels
  return settings.replaced(stored, overrides)


def logdir_of_checkpoint(path: str) -> str:
  """The launch.train logdir that --agent_checkpoint names: the logdir itself, its checkpoints/
  directory, or a checkpoint prefix inside it."""
  path = os.path.normpath(path)
  if os.path.isdir(path):
    return os.path.dirname(path) if os.path.basename(path) == "checkpoints" else path
  return os.path.dirname(os.path.dirname(path))
