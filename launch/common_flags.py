"""The flags that several launch binaries share, defined once, at import, in one place.

absl flag names are global to a process, so a name that more than one binary uses (--logdir, --seed,
--batch_size, the experiment's game and agent flags) is defined here and nowhere else; each binary
imports this module, defines its own remaining flags at import, and declares the shared ones it reads
as key flags (so they appear in its --help). Where binaries need different defaults for one name, the
flag's default is None and each binary documents and applies its own.

`train_config_from_flags` turns the experiment flags into the `TrainConfig` that launch.train runs and
that launch.evaluate, launch.collect and launch.imagine rebuild the agent from.
"""
import dataclasses
import glob
import os
import sys

from absl import app
from absl import flags

from i2a import configs
from i2a import frame_processing
from i2a import games
from i2a import optimizers
from i2a.training import environments
from i2a.training import learner as learner_lib
from i2a.training import loop

# Experiment: the environment.
ENV = flags.DEFINE_enum("env", "minipacman", list(games.GAMES), "Game.")
TASK = flags.DEFINE_enum("task", "regular", list(games.MINIPACMAN_TASKS), "MiniPacman task.")
ROOM_SIZE = flags.DEFINE_integer("room_size", None, "Sokoban room side in cells, walls included (paper: "
                                 "10). Default: 7 for training and evaluation, 10 for the planning binaries.")
NUM_BOXES = flags.DEFINE_integer("num_boxes", None, "Sokoban boxes per level (paper: 4). Default: 1 "
                                 "for training and evaluation, 4 for level generation and planning.")
NUM_LEVELS = flags.DEFINE_integer("num_levels", None, "Sokoban levels to play or label. Default: 200 per "
                                  "box count (launch.evaluate), 250 (launch.mcts_sokoban, paper App. D.3), "
                                  "2000 (launch.train_value_net).")
PIXELS = flags.DEFINE_integer("pixels_per_cell", 2, "Sokoban sprite size in pixels (paper: 8).")
MAX_STEPS = flags.DEFINE_integer("max_steps", 120, "Sokoban episode cap (paper App. D: 120).")
LEVELS = flags.DEFINE_string("levels", None, "Boxoban level file/directory/glob; default: generated.")
LEVEL_WORKERS = flags.DEFINE_integer(
    "level_workers", environments.EnvConfig.level_workers, "Processes generating Sokoban levels ahead, "
    "per actor; 0: each episode's level is generated on the actor's thread.", lower_bound=0)
LEVEL_POOL = flags.DEFINE_integer("level_pool_size", environments.EnvConfig.level_pool_size,
                                  "Generated levels the workers may make ahead.", lower_bound=1)
LEVEL_WHEN_DRY = flags.DEFINE_enum(
    "level_when_dry", environments.EnvConfig.level_when_dry, list(environments.LEVEL_WHEN_DRY),
    "When no fresh level is ready: 'replay' a recent one (never waits) or 'wait' for it.")
LEVEL_REPLAY = flags.DEFINE_integer("level_replay_size", environments.EnvConfig.level_replay_size,
                                    "Recent levels kept for replays.", lower_bound=1)
# Experiment: the agent.
AGENT = flags.DEFINE_enum("agent", "standard", list(configs.VARIANTS), "Agent variant (paper Sec. 4-5).")
IMAG_PATH = flags.DEFINE_enum("imag_path", None, list(configs.IMAG_PATHS), "Default: the variant's.")
ENV_MODEL = flags.DEFINE_enum("env_model", None, list(configs.ENV_MODELS), "Environment model. "
                              "launch.train: default the variant's; launch.train_env_model: the model to "
                              "train, 'learned' (default) or 'conv'.")
ENV_MODEL_CKPT = flags.DEFINE_string("env_model_checkpoint", None, "Pretrained env model ('learned').")
ROLLOUT_POLICY = flags.DEFINE_enum("rollout_policy", "distilled", list(configs.ROLLOUT_POLICIES),
                                   "Rollout policy of the imagination path (paper Sec. 3.1).")
ROLLOUT_DEPTH = flags.DEFINE_integer("rollout_depth", 5, "Imagined steps per rollout (paper: 1-15); for "
                                     "launch.train_env_model, K of the k-step rollout errors.")
ENCODER_DIRECTION = flags.DEFINE_enum(
    "encoder_direction", "backward", list(configs.ENCODER_DIRECTIONS), "The order I2A's rollout encoder "
    "reads the imagined steps (paper Sec. 3.2, footnote 1): backward (last step first), forward, or "
    "bidirectional (two LSTMs, outputs concatenated).")
ENV_MODEL_SIZE = flags.DEFINE_enum(
    "env_model_size", "good", list(configs.ENV_MODEL_SIZES), "Sokoban environment model: 'good' or "
    "'poor' (paper Fig. 5: same family, far fewer parameters). launch.train_env_model trains and exports "
    "it; launch.train refuses a model of the other size.")
PREDICT_REWARD = flags.DEFINE_boolean("predict_reward", True, "False: frames-only env model (Sokoban).")
STACK_SIZE = flags.DEFINE_integer("stack_size", 1, "Frames in the agent state.")
TORSO = flags.DEFINE_string("torso", "16:3:1,16:3:2", "Conv torso 'channels:kernel:stride,...' (SAME "
                            "padding; default: the talk's), or 'paper' for the paper's per-game torso.")
HIDDEN = flags.DEFINE_integer("hidden_size", 128, "Policy FC width; 0 for the paper's (512/256).")
LSTM = flags.DEFINE_integer("lstm_size", 0, "Rollout encoder LSTM width; 0 for the variant's (paper: "
                            "512/256, talk: 256).")
ROLLOUT_HIDDEN = flags.DEFINE_integer("rollout_hidden_size", 0, "Width of the per-step imagination "
                                      "feature's FC; 0 for the variant's (paper: 512/256).")
PRECISION = flags.DEFINE_enum("precision", None, list(configs.PRECISIONS),
                              "Compute dtype of the networks (variables, heads and losses stay float32). "
                              "Default: bfloat16 for agents that imagine, float32 for model-free ones.")
# Experiment: the learner.
LEARNING_RATE = flags.DEFINE_float("learning_rate", None, "Learning rate. Default: 1e-3 (RMSProp, "
                                   "launch.train), 7e-4 (Adam, launch.train_env_model).")
OPTIMIZER = flags.DEFINE_enum("optimizer", "rmsprop_tf1", list(optimizers.OPTIMIZERS),
                              "rmsprop_tf1: TF1's RMSPropOptimizer (mean square starts at 1; the talk's and "
                              "IMPALA's); rmsprop_snt: Sonnet 2's RMSProp (mean square starts at 0).")
ENTROPY = flags.DEFINE_float("entropy_cost", 0.01, "Entropy bonus weight (paper App. A: 0.01).")
BASELINE = flags.DEFINE_float("baseline_cost", 0.5, "Value loss weight.")
DISTIL = flags.DEFINE_float("distillation_cost", 1.0, "lambda_dist (paper Sec. 3.1).")
DISCOUNT = flags.DEFINE_float("discount", 0.99, "gamma.")
MAX_GRAD_NORM = flags.DEFINE_float("max_grad_norm", None, "Global gradient-norm clip; 0 for none. "
                                   "Default: 40 (launch.train), none (launch.train_env_model).")
REUSE = flags.DEFINE_boolean("reuse_imagination", True, "The learner re-encodes the actors' imagined "
                             "rollouts instead of running the environment model again.")
REWARD_CLIP = flags.DEFINE_enum("reward_clipping", "none", ["none", "abs_one", "soft_asymmetric"],
                                "Reward clipping in the V-trace targets.")
# Experiment: the system.
NUM_ACTORS = flags.DEFINE_integer("num_actors", 2, "Actors.")
ENVS_PER_ACTOR = flags.DEFINE_integer("envs_per_actor", 8, "Environment copies per actor (one batch).")
BATCH_SIZE = flags.DEFINE_integer("batch_size", None, "Learner batch. Default: 8 environment copies "
                                  "(launch.train), 64 transitions (launch.train_env_model).")
UNROLL = flags.DEFINE_integer("unroll_length", 10, "T: steps per unroll.")
TOTAL_FRAMES = flags.DEFINE_integer("total_frames", 500_000, "Environment frames to train for.")
LOGDIR = flags.DEFINE_string("logdir", None, "The run's directory: summaries and checkpoints. Default: "
                             "runs/default for launch.train and launch.evaluate; required elsewhere.")
SEED = flags.DEFINE_integer(
    "seed", 0, "Seed; -1 for non-deterministic (where a binary allows it). launch.train: the seed fixes "
    "the initial weights and every actor's levels, ghosts and action sampling, but by default the actors "
    "run asynchronously and act with whichever weights are newest, so two runs with one seed still "
    "differ; with --deterministic (synchronous acting and learning, slower) the same seed gives "
    "bit-identical weights. A resumed run draws new environment seeds from (seed, frames so far).")
BACKEND = flags.DEFINE_enum("backend", "local", list(loop.BACKENDS), "Actor transport.")
RAY_ADDRESS = flags.DEFINE_string("ray_address", None, "Ray cluster address; default: a local cluster.")
CKPT_SECS = flags.DEFINE_float("checkpoint_every_secs", 300.0, "Checkpoint period in seconds; 0: none.")
CKPT_FRAMES = flags.DEFINE_integer("checkpoint_every_frames", 0, "Checkpoint period in frames; 0: none.")
ACTOR_JIT = flags.DEFINE_boolean("actor_jit", False, "Compile the actors' policy step with XLA.")
LOG_SECS = flags.DEFINE_float("log_every_secs", 10.0, "Progress line period in seconds.")
STEPS = flags.DEFINE_integer("steps", None, "Optimizer updates in total. Default: 20000 "
                              "(launch.train_env_model), 2000 (launch.train_value_net).")
# The environment-model pipeline.
AGENT_CHECKPOINT = flags.DEFINE_string("agent_checkpoint", None, "A trained agent: a launch.train "
                                       "--logdir, its checkpoints/ directory, or a checkpoint prefix.")
OUT = flags.DEFINE_string("out", None, "Output directory.")

DEFAULT_LOGDIR = "runs/default"
DEFAULT_ROOM_SIZE = 7  # Training and evaluation: small rooms a 2-core machine can learn (README).
EXPERIMENT_FLAGS = ("env", "task", "room_size", "num_boxes", "pixels_per_cell", "max_steps", "levels",
                    "level_workers", "level_pool_size", "level_when_dry", "level_replay_size",
                    "agent", "imag_path", "env_model", "env_model_checkpoint", "rollout_policy",
                    "rollout_depth", "encoder_direction", "env_model_size", "predict_reward", "stack_size",
                    "torso", "hidden_size", "lstm_size", "rollout_hidden_size", "precision", "reuse_imagination",
                    "learning_rate", "optimizer", "entropy_cost", "baseline_cost", "distillation_cost", "discount",
                    "max_grad_norm", "reward_clipping", "num_actors", "envs_per_actor", "batch_size",
                    "unroll_length", "total_frames", "logdir", "seed", "backend", "ray_address",
                    "checkpoint_every_secs", "checkpoint_every_frames", "log_every_secs", "actor_jit")
_LEVEL_SUPPLY = ("level_workers", "level_pool_size", "level_when_dry", "level_replay_size")
_SOKOBAN_ONLY = ("room_size", "num_boxes", "pixels_per_cell", "max_steps", "levels", "predict_reward",
                 *_LEVEL_SUPPLY)
_IMAGINATION_ONLY = ("env_model", "env_model_checkpoint", "rollout_policy", "rollout_depth",
                     "distillation_cost", "reuse_imagination", "encoder_direction", "env_model_size")


def declare_key_flags(names) -> None:
  """Shows the shared flags `names` in the calling binary's --help (absl lists a module's key flags;
  `flags.declare_key_flag` called from here would make them key flags of this module instead)."""
  caller = sys._getframe(1).f_globals["__name__"]  # pylint: disable=protected-access
  module = sys.argv[0] if caller == "__main__" else caller  # How absl names the main module.
  for name in names:
    flags.FLAGS.register_key_flag_for_module(module, flags.FLAGS[name])


def value_or(fv: flags.FlagValues, name: str, default):
  """The value of the shared flag `name`, or this binary's `default` where it was left unset (None)."""
  value = fv[name].value
  return default if value is None else value


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
  num_boxes, room_size = value_or(fv, "num_boxes", 1), value_or(fv, "room_size", DEFAULT_ROOM_SIZE)
  agent = configs.AgentConfig(
      game=game, task=fv.task, variant=variant, imag_path=fv.imag_path, env_model=fv.env_model,
      rollout_policy=fv.rollout_policy, rollout_depth=fv.rollout_depth, stack_size=fv.stack_size,
      encoder_direction=fv.encoder_direction, env_model_size=fv.env_model_size,
      predict_reward=fv.predict_reward, room_size=room_size, pixels_per_cell=fv.pixels_per_cell,
      torso=frame_processing.TorsoConfig.parse(fv.torso), hidden_size=fv.hidden_size or None,
      lstm_size=fv.lstm_size or None, rollout_hidden_size=fv.rollout_hidden_size or None, precision=fv.precision)
  env = environments.EnvConfig(game=game, task=fv.task, room_size=room_size, num_boxes=num_boxes,
                               pixels_per_cell=fv.pixels_per_cell, max_steps=fv.max_steps, levels=fv.levels,
                               level_workers=fv.level_workers, level_pool_size=fv.level_pool_size,
                               level_when_dry=fv.level_when_dry, level_replay_size=fv.level_replay_size)
  learner = learner_lib.LearnerConfig(
      learning_rate=value_or(fv, "learning_rate", 1e-3), optimizer=fv.optimizer, entropy_cost=fv.entropy_cost,
      baseline_cost=fv.baseline_cost, distillation_cost=fv.distillation_cost, discount=fv.discount,
      max_grad_norm=value_or(fv, "max_grad_norm", 40.0) or None, reward_clipping=fv.reward_clipping,
      reuse_imagination=fv.reuse_imagination)
  return loop.TrainConfig(
      agent=agent, env=env, learner=learner, logdir=fv.logdir or DEFAULT_LOGDIR, num_actors=fv.num_actors,
      envs_per_actor=fv.envs_per_actor, batch_size=value_or(fv, "batch_size", 8),
      unroll_length=fv.unroll_length, total_frames=fv.total_frames, seed=None if fv.seed < 0 else fv.seed,
      backend=fv.backend, ray_address=fv.ray_address,
      env_model_checkpoint=fv.env_model_checkpoint if imagines else None,
      checkpoint_every_secs=fv.checkpoint_every_secs or None,
      checkpoint_every_frames=fv.checkpoint_every_frames or None, log_every_secs=fv.log_every_secs,
      actor_jit_compile=fv.actor_jit)


def check_paths(config: loop.TrainConfig) -> None:
  """Raises ValueError for input files that do not exist or do not load (before anything starts)."""
  path = config.env_model_checkpoint
  if path and not (os.path.exists(path) or glob.glob(glob.escape(path) + ".*")):
    raise ValueError(f"--env_model_checkpoint={path!r} does not exist; train an environment model first.")
  if path:  # A model of another game, size (--env_model_size) or head: refused before anything starts.
    from i2a.model_pipeline import export  # pylint: disable=g-import-not-at-top
    export.check_checkpoint_compatible(path, config.agent)
  if config.env.levels is not None:
    environments.build_env(config.env, 1, seed=0).close()  # Loads and validates the level files.


# Flags that evaluate, collect and imagine may set differently from the stored run config.
EVALUATION_OVERRIDES = ("levels", "logdir", "num_actors", "envs_per_actor", "total_frames", "backend",
                        "ray_address", "checkpoint_every_secs", "checkpoint_every_frames",
                        "log_every_secs", "seed")


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


def guard(main):
  """`main`, where a user's mistake (a flag, a file, a checkpoint, a busy or unwritable directory, an
  unreachable cluster) ends the program with one line naming it and exit status 1, no traceback."""
  from i2a.training import checkpointing  # pylint: disable=g-import-not-at-top
  from i2a.training import rundir  # pylint: disable=g-import-not-at-top

  def guarded(argv):
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
