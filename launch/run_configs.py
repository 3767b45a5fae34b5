"""The experiment flags as a `TrainConfig`: the one launch.train runs, or the one a run stored.

launch.train runs `train_config_from_flags`; launch.evaluate, launch.collect and launch.imagine rebuild a
trained agent from `stored_train_config` (the run's config.json, the flags given checked against it).
The flags themselves are defined in launch/common_flags.py.
"""
import dataclasses
import glob
import os

from absl import flags

from i2a import configs
from i2a import frame_processing
from i2a.training import env_model_metadata
from i2a.training import environments
from i2a.training import learner as learner_lib
from i2a.training import loop
from launch import common_flags
from launch.common_flags import DEFAULT_LOGDIR
from launch.common_flags import EXPERIMENT_FLAGS
from launch.common_flags import TRAIN_DEFAULTS

_LEVEL_SUPPLY = ("level_workers", "level_pool_size", "level_when_dry", "level_replay_size")
_SOKOBAN_ONLY = ("room_size", "num_boxes", "pixels_per_cell", "max_steps", "levels", "predict_reward",
                 *_LEVEL_SUPPLY)
_IMAGINATION_ONLY = ("env_model", "env_model_checkpoint", "rollout_policy", "rollout_depth",
                     "distillation_cost", "reuse_imagination", "encoder_direction", "env_model_size")

def train_config_from_flags(fv: flags.FlagValues = flags.FLAGS,
                            model_free_may_name_env_model: bool = False) -> loop.TrainConfig:
  """Maps the parsed experiment flags to a validated TrainConfig.

  Args:
    fv: the parsed flags.
    model_free_may_name_env_model: accept --env_model_checkpoint with a model-free agent, leaving it out
      of the config (launch.imagine names the model it draws with this way); launch.train refuses it.

  Raises:
    ValueError: a flag value or combination of flags that is invalid, with the flags named.
  """
  game, variant = fv.env, fv.agent
  present = [name for name in fv if fv[name].present]
  for name in ("checkpoint_every_secs", "checkpoint_every_frames", "log_every_secs", "actor_jit"):
    if fv[name].value < 0:
      raise ValueError(f"--{name}={fv[name].value} is negative; give a positive period, or 0 for "
                       f"{'never' if name.startswith('checkpoint') else 'every step'}.")
  if game == "minipacman":
    misplaced = [n for n in _SOKOBAN_ONLY if n in present]
    if misplaced:
      raise ValueError(f"--{', --'.join(misplaced)} only apply to --env=sokoban.")
  elif "task" in present:
    raise ValueError("--task selects a MiniPacman task; Sokoban has none.")
  elif fv.levels is not None and any(n in present for n in _LEVEL_SUPPLY):
    raise ValueError(f"--{', --'.join(n for n in _LEVEL_SUPPLY if n in present)} set the supply of "
                     "generated levels; --levels reads level files instead.")
  imagines = configs.imag_path_of(variant, fv.imag_path) == "imag"
  if not imagines:
    misplaced = [n for n in _IMAGINATION_ONLY if n in present and not (
        model_free_may_name_env_model and n == "env_model_checkpoint")]
    if misplaced:
      raise ValueError(f"--{', --'.join(misplaced)} need an imagination path, but --agent={variant} "
                       f"--imag_path={fv.imag_path or 'none'} has none.")
  fv = common_flags.settings(fv, TRAIN_DEFAULTS, EXPERIMENT_FLAGS)
  num_boxes, room_size, pixels_per_cell = fv.num_boxes, fv.room_size, fv.pixels_per_cell
  agent = configs.AgentConfig(
      game=game, task=fv.task, variant=variant, imag_path=fv.imag_path, env_model=fv.env_model,
      rollout_policy=fv.rollout_policy, rollout_depth=fv.rollout_depth, stack_size=fv.stack_size,
      encoder_direction=fv.encoder_direction, env_model_size=fv.env_model_size,
      predict_reward=fv.predict_reward, room_size=room_size, pixels_per_cell=pixels_per_cell,
      torso=frame_processing.TorsoConfig.parse(fv.torso), hidden_size=fv.hidden_size or None,
      lstm_size=fv.lstm_size or None, rollout_hidden_size=fv.rollout_hidden_size or None, precision=fv.precision)
  env = environments.EnvConfig(num_boxes=num_boxes, max_steps=fv.max_steps, levels=fv.levels,
                               level_workers=fv.level_workers, level_pool_size=fv.level_pool_size,
                               level_when_dry=fv.level_when_dry, level_replay_size=fv.level_replay_size)
  learner = learner_lib.LearnerConfig(
      learning_rate=fv.learning_rate, optimizer=fv.optimizer, entropy_cost=fv.entropy_cost,
      baseline_cost=fv.baseline_cost, distillation_cost=fv.distillation_cost, discount=fv.discount,
      max_grad_norm=fv.max_grad_norm or None, reward_clipping=fv.reward_clipping,
      reuse_imagination=fv.reuse_imagination)
  return loop.TrainConfig(
      agent=agent, env=env, learner=learner, logdir=fv.logdir or DEFAULT_LOGDIR, num_actors=fv.num_actors,
      envs_per_actor=fv.envs_per_actor, batch_size=fv.batch_size,
      unroll_length=fv.unroll_length, total_frames=fv.total_frames, seed=None if fv.seed < 0 else fv.seed,
      backend=fv.backend, ray_address=fv.ray_address,
      env_model_checkpoint=fv.env_model_checkpoint if imagines else None,
      checkpoint_every_secs=fv.checkpoint_every_secs or None,
      checkpoint_every_frames=fv.checkpoint_every_frames or None, log_every_secs=fv.log_every_secs,
      actor_jit_compile=fv.actor_jit, inference=fv.inference)


def check_paths(config: loop.TrainConfig) -> None:
  """Raises ValueError for input files that do not exist or do not load (before anything starts)."""
  path = config.env_model_checkpoint
  if path and not (os.path.exists(path) or glob.glob(glob.escape(path) + ".*")):
    raise ValueError(f"--env_model_checkpoint={path!r} does not exist; train an environment model first.")
  if path:  # A model of another game, size (--env_model_size) or head: refused before anything starts.
    env_model_metadata.check_checkpoint_compatible(path, config.agent)
  if config.env.levels is not None:
    environments.build_env(config.geometry, config.env, 1, seed=0).close()  # Loads and validates the level files.


# Flags that evaluate, collect and imagine may set differently from the stored run config.
EVALUATION_OVERRIDES = ("levels", "logdir", "num_actors", "envs_per_actor", "total_frames", "backend",
                        "ray_address", "checkpoint_every_secs", "checkpoint_every_frames",
                        "log_every_secs", "seed", "inference")


_FLAG_FIELDS = {"env": "game", "agent": "variant"}  # Flag name -> config field, where they differ.


def stored_train_config(fv: flags.FlagValues, logdir: str,
                        model_free_may_name_env_model: bool = False) -> loop.TrainConfig:
  """The config a launch.train run stored in `logdir` (run_config.CONFIG_FILE), for rebuilding its
  agent; without a stored config, the one the experiment flags describe.

  Experiment flags given explicitly must agree with the stored config, except --levels (evaluate on
  other levels) and the system flags of EVALUATION_OVERRIDES.

  Raises:
    ValueError: an explicit flag contradicts the stored config (each difference named).
  """
  from i2a.training import run_config  # pylint: disable=g-import-not-at-top
  stored = run_config.load(logdir) if os.path.isdir(logdir) else None
  from_flags = train_config_from_flags(fv, model_free_may_name_env_model)
  if stored is None:
    return from_flags
  given = [n for n in EXPERIMENT_FLAGS if fv[n].present and n not in EVALUATION_OVERRIDES
           and not (model_free_may_name_env_model and n == "env_model_checkpoint")]
  if given:
    fields = {_FLAG_FIELDS.get(n, n) for n in given}
    changed = [d for d in run_config.differences(stored, from_flags, ignore=())
               if fields & set(d.split(":")[0].split("."))]
    if changed:
      raise ValueError(f"{logdir} was trained with other settings than the flags given "
                       f"({'; '.join(changed)}); drop those flags (the stored {run_config.CONFIG_FILE} "
                       "rebuilds the agent), or point --logdir at the run they describe.")
  env = stored.env
  if fv["levels"].present:
    env = dataclasses.replace(env, levels=fv.levels)
  return dataclasses.replace(stored, logdir=logdir, env=env, seed=from_flags.seed)


def logdir_of_checkpoint(path: str) -> str:
  """The launch.train logdir that --agent_checkpoint names: the logdir itself, its checkpoints/
  directory, or a checkpoint prefix inside it."""
  path = os.path.normpath(path)
  if os.path.isdir(path):
    return os.path.dirname(path) if os.path.basename(path) == "checkpoints" else path
  return os.path.dirname(os.path.dirname(path))
