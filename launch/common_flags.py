"""The flags that several launch binaries share, defined once, at import, in one place.

absl flag names are global to a process, so a name that more than one binary uses (--logdir, --seed,
--batch_size, the experiment's game and agent flags) is defined here and nowhere else; each binary
imports this module, defines its own remaining flags at import, and declares the shared ones it reads
as key flags (so they appear in its --help). Where binaries need different defaults for one name, the
flag's default is None and each binary documents and applies its own.

launch/run_configs.py turns the experiment flags (EXPERIMENT_FLAGS) into the `TrainConfig` that
launch.train runs and that launch.evaluate, launch.collect and launch.imagine rebuild the agent from.
"""
import os
import sys
import types

from absl import app
from absl import flags

from i2a import configs
from i2a import games
from i2a import optimizers
from i2a.training import environments
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
PIXELS = flags.DEFINE_integer("pixels_per_cell", None, "Sokoban sprite size in pixels (paper: 8). Default: 2, "
                              "8 for launch.benchmark_train.")
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
    "env_model_size", "good", list(configs.ENV_MODEL_SIZES), "Sokoban environment model: 'good', "
    "'poor' (paper Fig. 5: same family, far fewer parameters) or 'small' (32 channels, for small grids "
    "such as the study's 6x6 rooms). launch.train_env_model trains and exports it; launch.train refuses "
    "a model of another size.")
PREDICT_REWARD = flags.DEFINE_boolean("predict_reward", True, "False: frames-only env model (Sokoban).")
STACK_SIZE = flags.DEFINE_integer("stack_size", 1, "Frames in the agent state.")
TORSO = flags.DEFINE_string("torso", None, "Conv torso 'channels:kernel:stride,...' (SAME padding) or "
                            "'paper' for the paper's per-game torso. Default: the talk's '16:3:1,16:3:2'; "
                            "'paper' for launch.benchmark_train.")
HIDDEN = flags.DEFINE_integer("hidden_size", None, "Policy FC width; 0 for the paper's (512/256). Default: "
                              "128; 0 for launch.benchmark_train.")
LSTM = flags.DEFINE_integer("lstm_size", 0, "Rollout encoder LSTM width; 0 for the variant's (paper: "
                            "512/256, talk: 256).")
ROLLOUT_HIDDEN = flags.DEFINE_integer("rollout_hidden_size", 0, "Width of the per-step imagination "
                                      "feature's FC; 0 for the variant's (paper: 512/256).")
PRECISION = flags.DEFINE_enum("precision", None, list(configs.PRECISIONS),
                              "Compute dtype of the networks (variables, heads and losses stay float32). "
                              "Default: bfloat16 for agents that imagine on a GPU or a CPU with AMX / "
                              "AVX-512 BF16, float32 otherwise and for model-free agents; "
                              "bfloat16 for every agent in launch.benchmark_agent.")
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
ENVS_PER_ACTOR = flags.DEFINE_integer("envs_per_actor", None, "Environment copies per actor (one batch). "
                                      "Default: 8; 16 for launch.benchmark_train.")
BATCH_SIZE = flags.DEFINE_integer("batch_size", None, "Batch size. Default: 8 environment copies (launch.train), "
                                  "64 transitions (launch.train_env_model); the benchmarks' and "
                                  "launch.describe's own (their --help).")
UNROLL = flags.DEFINE_integer("unroll_length", None, "T: steps per unroll. Default: 10; 20 for the "
                              "benchmarks.")
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
INFERENCE = flags.DEFINE_enum("inference", "actor", list(loop.INFERENCE), "Where the policy runs: 'actor' "
                              "(each actor, for its environments) or 'central' (SEED RL: actors only step "
                              "environments; one server beside the learner, on its device, batches them all).")
LOG_SECS = flags.DEFINE_float("log_every_secs", 10.0, "Progress line period in seconds.")
STEPS = flags.DEFINE_integer("steps", None, "Optimizer updates in total. Default: 20000 "
                              "(launch.train_env_model), 2000 (launch.train_value_net).")
# The environment-model pipeline.
AGENT_CHECKPOINT = flags.DEFINE_string("agent_checkpoint", None, "A trained agent: a launch.train "
                                       "--logdir, its checkpoints/ directory, or a checkpoint prefix.")
OUT = flags.DEFINE_string("out", None, "Output directory.")
# Measurement and play binaries (the benchmarks, launch.describe, launch.minipacman_random_play, ...).
GAMES = flags.DEFINE_list("games", None, "Games to measure or describe. Default: both.")
VARIANTS = flags.DEFINE_list("variants", None, "Agent variants to measure or describe (launch.benchmark_agent, "
                             "launch.describe). Default: the binary's (its --help).")
SECONDS = flags.DEFINE_float("seconds", None, "Seconds per measurement. Default: the benchmark's (its --help).")
NUM_ENVS = flags.DEFINE_integer("num_envs", 16, "Environment copies stepped together (launch.collect, "
                                "launch.benchmark_levels).", lower_bound=1)
EPISODES = flags.DEFINE_integer("episodes", None, "MiniPacman episodes per task. Default: 50 "
                                "(launch.evaluate), 200 (launch.minipacman_random_play).")
FRAME_CAP = flags.DEFINE_integer("frame_cap", None, "MiniPacman steps per episode. Default: the game's; the "
                                 "notebook's 39 for launch.talk_demo.", lower_bound=1)

DEFAULT_LOGDIR = "runs/default"
DEFAULT_ROOM_SIZE = 7  # Training and evaluation: small rooms a 2-core machine can learn (README).
# launch.train's defaults (and so evaluate's, collect's, imagine's) for the shared flags that default to
# None because another binary needs another default.
TRAIN_DEFAULTS = dict(room_size=DEFAULT_ROOM_SIZE, num_boxes=1, pixels_per_cell=2, torso="16:3:1,16:3:2",
                      hidden_size=128, learning_rate=1e-3, max_grad_norm=40.0, envs_per_actor=8, batch_size=8,
                      unroll_length=10)
EXPERIMENT_FLAGS = ("env", "task", "room_size", "num_boxes", "pixels_per_cell", "max_steps", "levels",
                    "level_workers", "level_pool_size", "level_when_dry", "level_replay_size",
                    "agent", "imag_path", "env_model", "env_model_checkpoint", "rollout_policy",
                    "rollout_depth", "encoder_direction", "env_model_size", "predict_reward", "stack_size",
                    "torso", "hidden_size", "lstm_size", "rollout_hidden_size", "precision", "reuse_imagination",
                    "learning_rate", "optimizer", "entropy_cost", "baseline_cost", "distillation_cost", "discount",
                    "max_grad_norm", "reward_clipping", "num_actors", "envs_per_actor", "batch_size",
                    "unroll_length", "total_frames", "logdir", "seed", "backend", "ray_address",
                    "checkpoint_every_secs", "checkpoint_every_frames", "log_every_secs", "actor_jit",
                    "inference")
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


def settings(fv: flags.FlagValues, defaults: dict, names) -> types.SimpleNamespace:
  """The flags `names` as attributes, with the binary's `defaults` for shared ones left unset (None)."""
  return types.SimpleNamespace(**{n: value_or(fv, n, defaults.get(n)) for n in names})


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
