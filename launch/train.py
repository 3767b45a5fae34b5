r"""Trains an I2A or baseline agent with IMPALA-style actors and one learner.

With no flags: a small run that visibly learns in a few minutes on 2 CPU cores: the standard
(model-free) agent with the talk's small torso on MiniPacman 'regular' (mean return 7.8 for a random
policy, about 14 after the default 500k frames; our measurements in small Sokoban rooms showed no
comparable progress in that budget). The paper's experiments are flag files:

  python -m launch.train                                   # The small default run.
  python -m launch.train --flagfile=launch/configs/sokoban_i2a_depth5.flags --logdir=runs/i2a5
  python -m launch.train --backend=ray --ray_address=auto ...   # Actors on a Ray cluster.

Re-running with the same --logdir resumes from the newest checkpoint.
"""
import glob
import os

from absl import app
from absl import flags
from absl import logging

from i2a import configs
from i2a import env_factory
from i2a import frame_processing
from i2a import games
from i2a import learner as learner_lib
from i2a import training

# Environment.
_ENV = flags.DEFINE_enum("env", "minipacman", ["sokoban", "minipacman"], "Game.")
_TASK = flags.DEFINE_enum("task", "regular", list(games.MINIPACMAN_TASKS), "MiniPacman task.")
_ROOM_SIZE = flags.DEFINE_integer("room_size", 7, "Sokoban room side in cells, walls included (paper: 10).")
_NUM_BOXES = flags.DEFINE_integer("num_boxes", 1, "Sokoban boxes per level (paper: 4).")
_PIXELS = flags.DEFINE_integer("pixels_per_cell", 2, "Sokoban sprite size in pixels (paper: 8).")
_MAX_STEPS = flags.DEFINE_integer("max_steps", 120, "Sokoban episode cap (spec 4.1: 120).")
_LEVELS = flags.DEFINE_string("levels", None, "Boxoban level file/directory/glob; default: generated.")
# Agent.
_AGENT = flags.DEFINE_enum("agent", "standard", list(configs.VARIANTS), "Agent variant (paper Sec. 4-5).")
_IMAG_PATH = flags.DEFINE_enum("imag_path", None, list(configs.IMAG_PATHS), "Default: the variant's.")
_ENV_MODEL = flags.DEFINE_enum("env_model", None, list(configs.ENV_MODELS), "Default: the variant's.")
_ENV_MODEL_CKPT = flags.DEFINE_string("env_model_checkpoint", None, "Pretrained env model ('learned').")
_ROLLOUT_POLICY = flags.DEFINE_enum("rollout_policy", "distilled", list(configs.ROLLOUT_POLICIES), "")
_ROLLOUT_DEPTH = flags.DEFINE_integer("rollout_depth", 5, "Imagined steps per rollout (paper: 1-15).")
_PREDICT_REWARD = flags.DEFINE_boolean("predict_reward", True, "False: frames-only env model (Sokoban).")
_STACK_SIZE = flags.DEFINE_integer("stack_size", 1, "Frames in the agent state.")
_TORSO = flags.DEFINE_string("torso", "16:3:1,16:3:2", "Conv torso 'channels:kernel:stride,...' (SAME "
                             "padding; default: the talk's), or 'paper' for the paper's per-game torso.")
_HIDDEN = flags.DEFINE_integer("hidden_size", 128, "Policy FC width; 0 for the paper's (512/256).")
_PRECISION = flags.DEFINE_enum("precision", "bfloat16", list(configs.PRECISIONS),
                               "Compute dtype of the networks (variables, heads and losses stay float32).")
# Learner.
_LR = flags.DEFINE_float("learning_rate", 1e-3, "RMSprop learning rate.")
_ENTROPY = flags.DEFINE_float("entropy_cost", 0.01, "Entropy bonus weight (spec 3: 0.01).")
_BASELINE = flags.DEFINE_float("baseline_cost", 0.5, "Value loss weight.")
_DISTIL = flags.DEFINE_float("distillation_cost", 1.0, "lambda_dist (paper Sec. 3.1).")
_DISCOUNT = flags.DEFINE_float("discount", 0.99, "gamma.")
_CLIP = flags.DEFINE_float("max_grad_norm", 40.0, "Global gradient-norm clip; 0 for none.")
_REWARD_CLIP = flags.DEFINE_enum("reward_clipping", "none", ["none", "abs_one", "soft_asymmetric"], "")
_REUSE = flags.DEFINE_boolean("reuse_imagination", True, "The learner re-encodes the actors' imagined "
                              "rollouts instead of running the environment model again.")
# System.
_NUM_ACTORS = flags.DEFINE_integer("num_actors", 2, "Actors.")
_ENVS_PER_ACTOR = flags.DEFINE_integer("envs_per_actor", 8, "Environment copies per actor (one batch).")
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 8, "Environment copies per learner batch.")
_UNROLL = flags.DEFINE_integer("unroll_length", 10, "T: steps per unroll.")
_TOTAL_FRAMES = flags.DEFINE_integer("total_frames", 500_000, "Environment frames to train for.")
_LOGDIR = flags.DEFINE_string("logdir", "runs/default", "Summaries and checkpoints.")
_SEED = flags.DEFINE_integer("seed", 0, "Seed; -1 for non-deterministic.")
_BACKEND = flags.DEFINE_enum("backend", "local", list(training.BACKENDS), "Actor transport.")
_RAY_ADDRESS = flags.DEFINE_string("ray_address", None, "Ray cluster address; default: a local cluster.")
_CKPT_SECS = flags.DEFINE_float("checkpoint_every_secs", 300.0, "Checkpoint period in seconds; 0: none.")
_CKPT_FRAMES = flags.DEFINE_integer("checkpoint_every_frames", 0, "Checkpoint period in frames; 0: none.")
_LOG_SECS = flags.DEFINE_float("log_every_secs", 10.0, "Progress line period in seconds.")
_ACTOR_JIT = flags.DEFINE_boolean("actor_jit", False, "Compile the actors' policy step with XLA.")

_SOKOBAN_ONLY = ("room_size", "num_boxes", "pixels_per_cell", "max_steps", "levels", "predict_reward")
_IMAGINATION_ONLY = ("env_model", "env_model_checkpoint", "rollout_policy", "rollout_depth",
                     "distillation_cost", "reuse_imagination")


def parse_torso(text: str) -> frame_processing.TorsoConfig | None:
  """'16:3:1,32:3:2' -> TorsoConfig (SAME padding); 'paper' -> None (the config's per-game default)."""
  if text == "paper":
    return None
  try:
    layers = [tuple(int(x) for x in layer.split(":")) for layer in text.split(",")]
    channels, kernels, strides = zip(*layers)
  except ValueError as e:
    raise ValueError(f"--torso={text!r}: expected 'channels:kernel:stride,...' or 'paper'.") from e
  return frame_processing.TorsoConfig(channels, kernels, strides, padding="SAME")


def config_from_flags(fv: flags.FlagValues = flags.FLAGS) -> training.TrainConfig:
  """Maps the parsed flags to a validated TrainConfig.

  Raises:
    ValueError: a flag value or combination of flags that is invalid, with the flags named.
  """
  game, variant = fv.env, fv.agent
  present = [name for name in fv if fv[name].present]
  if game == "minipacman":
    misplaced = [n for n in _SOKOBAN_ONLY if n in present]
    if misplaced:
      raise ValueError(f"--{', --'.join(misplaced)} only apply to --env=sokoban.")
  elif "task" in present:
    raise ValueError("--task selects a MiniPacman task; Sokoban has none.")
  imagines = (fv.imag_path or ("none" if variant in ("standard", "large") else "imag")) == "imag"
  if not imagines:
    misplaced = [n for n in _IMAGINATION_ONLY if n in present]
    if misplaced:
      raise ValueError(f"--{', --'.join(misplaced)} need an imagination path, but --agent={variant} "
                       f"--imag_path={fv.imag_path or 'none'} has none.")
  agent = configs.AgentConfig(
      game=game, task=fv.task, variant=variant, imag_path=fv.imag_path, env_model=fv.env_model,
      rollout_policy=fv.rollout_policy, rollout_depth=fv.rollout_depth, stack_size=fv.stack_size,
      predict_reward=fv.predict_reward, room_size=fv.room_size, pixels_per_cell=fv.pixels_per_cell,
      torso=parse_torso(fv.torso), hidden_size=fv.hidden_size or None, precision=fv.precision)
  env = env_factory.EnvConfig(game=game, task=fv.task, room_size=fv.room_size, num_boxes=fv.num_boxes,
                              pixels_per_cell=fv.pixels_per_cell, max_steps=fv.max_steps, levels=fv.levels)
  learner = learner_lib.LearnerConfig(
      learning_rate=fv.learning_rate, entropy_cost=fv.entropy_cost, baseline_cost=fv.baseline_cost,
      distillation_cost=fv.distillation_cost, discount=fv.discount,
      max_grad_norm=fv.max_grad_norm or None, reward_clipping=fv.reward_clipping,
      reuse_imagination=fv.reuse_imagination)
  return training.TrainConfig(
      agent=agent, env=env, learner=learner, logdir=fv.logdir, num_actors=fv.num_actors,
      envs_per_actor=fv.envs_per_actor, batch_size=fv.batch_size, unroll_length=fv.unroll_length,
      total_frames=fv.total_frames, seed=None if fv.seed < 0 else fv.seed, backend=fv.backend,
      ray_address=fv.ray_address, env_model_checkpoint=fv.env_model_checkpoint,
      checkpoint_every_secs=fv.checkpoint_every_secs or None,
      checkpoint_every_frames=fv.checkpoint_every_frames or None, log_every_secs=fv.log_every_secs,
      actor_jit_compile=fv.actor_jit)


def check_paths(config: training.TrainConfig) -> None:
  """Raises ValueError for input files that do not exist (before anything starts)."""
  path = config.env_model_checkpoint
  if path and not (os.path.exists(path) or glob.glob(glob.escape(path) + ".*")):
    raise ValueError(f"--env_model_checkpoint={path!r} does not exist; train an environment model first.")
  if config.env.levels is not None:
    env_factory.build_env(config.env, 1, seed=0).close()  # Loads and validates the level files.


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  try:
    config = config_from_flags()
    check_paths(config)
  except ValueError as e:
    raise app.UsageError(str(e)) from e
  logging.info("Training config: %s", config)
  result = training.train(config)
  logging.info("Done: %s", result)


if __name__ == "__main__":
  app.run(main)
