r"""Draws what a trained environment model imagines from a real state: a PNG grid and an animated GIF.

  python -m launch.imagine --env=minipacman \
      --env_model_checkpoint=runs/env_model_minipacman --out=/tmp/imagine --depth=5
  python -m launch.imagine --flagfile=launch/configs/pipeline_minipacman_1_agent.flags \
      --agent_checkpoint=runs/pipeline_minipacman_agent --env_model_checkpoint=... --out=/tmp/imagine

Rows: the real frames of a real rollout (the agent's, or uniformly random actions), then one row per
first action with the frames the model imagines after it (paper Sec. 3.1: one rollout per action). The
later imagined actions are the rollout policy's (an I2A agent's distilled policy, a model-free agent's
own policy) or, without an agent, the real rollout's actions, so the row marked '*' replays the real
actions open-loop and can be compared frame by frame with the real row. The game, env and agent flags
are launch.train's; the model's game and frame size come from its metadata.
"""
import json
import os

from absl import app
from absl import flags
from absl import logging
import numpy as np
import tensorflow as tf

from i2a.training import checkpointing
from i2a.training import environments
from i2a.model_pipeline import training as model_training
from i2a import factory
from i2a.model_pipeline import pictures
from launch import collect
from launch import train
from launch import train_env_model

LAST = 2


def define_flags(fv: flags.FlagValues = flags.FLAGS) -> None:
  """This binary's own flags; defined only when run as a program (tests import it beside launch.train)."""
  flags.DEFINE_string("agent_checkpoint", None, "Optional agent (as for launch.collect) choosing the real "
                      "actions and the later imagined ones.", flag_values=fv)
  flags.DEFINE_string("out", None, "Output directory for imagination.png/.gif/.json.", flag_values=fv)
  flags.DEFINE_integer("depth", 5, "Imagined steps per rollout (I2A's canonical depth is 5).",
                       lower_bound=1, flag_values=fv)
  flags.DEFINE_integer("start_steps", 10, "Real steps played before the start state.", lower_bound=0,
                       flag_values=fv)
  flags.DEFINE_integer("scale", 0, "Pixel enlargement; 0 picks one making frames >= 96 pixels.",
                       lower_bound=0, flag_values=fv)
  flags.DEFINE_integer("gif_ms", 600, "Milliseconds per GIF frame.", lower_bound=10, flag_values=fv)


def load_model(path: str, env_config: environments.EnvConfig):
  """The environment model at `path` (prefix or directory), checked against the game of `env_config`."""
  metadata = model_training.load_metadata(path)
  overrides = dict(game=env_config.game)
  if env_config.game == "sokoban":
    overrides.update(room_size=env_config.room_size, pixels_per_cell=env_config.pixels_per_cell)
  else:
    overrides.update(task=env_config.task)
  config = model_training.agent_config_for(dict(metadata, **overrides))
  model_training.check_env_model_compatible(metadata, config, source=f"The environment model {path!r}")
  model = factory.build_env_model(config)
  spec = config.game_spec()
  model(tf.zeros([1, spec.height, spec.width, 3]), tf.zeros([1], tf.int32))  # Creates the variables.
  checkpointing.load_env_model(model, path)
  return model


def real_rollout(env, policy, start_steps: int, depth: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """Plays `start_steps`, then up to `depth` more steps of copy 0, stopping at the episode's end.

  Returns:
    frames uint8 [T, H, W, 3] (the start frame and the T-1 <= depth frames after it), actions int32
    [T-1] and rewards float32 [T-1].
  """
  timestep = env.reset()
  for _ in range(start_steps):
    timestep = env.step(policy(timestep))
  while timestep.step_type[0] == LAST:  # Start inside an episode.
    timestep = env.step(policy(timestep))
  frames, actions, rewards = [timestep.observation["rgb"][0]], [], []
  while len(actions) < depth:
    action = policy(timestep)
    timestep = env.step(action)
    frames.append(timestep.observation["rgb"][0])
    actions.append(int(action[0]))
    rewards.append(float(timestep.reward[0]))
    if timestep.step_type[0] == LAST:
      break
  return np.stack(frames), np.asarray(actions, np.int32), np.asarray(rewards, np.float32)


def write_pictures(model, env, policy, rollout_policy, depth: int, out: str, action_names=(),
                   start_steps: int = 0, scale: int = 0, gif_ms: int = 600, seed: int = 0) -> dict:
  """Writes out/imagination.png, .gif and .json; returns their paths and the picture's size.

  Args:
    model: the environment model; env: a BatchedEnvironment (copy 0 is played);
    policy: timestep -> int32 [N], the real actions;
    rollout_policy: float32 [A, H, W, 3] imagined frames -> int [A], or None to reuse the real actions;
    action_names: row labels (default 'a=<index>').
  """
  frames, actions, rewards = real_rollout(env, policy, start_steps, depth)
  later = None
  if rollout_policy is None:  # The real actions after the first, padded if the episode ended early.
    pad = np.random.default_rng(seed).integers(env.num_actions, size=depth)
    later = np.concatenate([actions[1:], pad])[:depth - 1]
  imagined, imagined_rewards = pictures.imagine(model, frames[0], env.num_actions, depth,
                                                later_actions=later, policy=rollout_policy)
  first = int(actions[0]) if len(actions) else None
  rows, labels = pictures.imagination_rows(frames, imagined, first, action_names)
  scale = scale or pictures.upscale_factor(*frames.shape[1:3])
  os.makedirs(out, exist_ok=True)
  png = pictures.save_png(pictures.grid_image(rows, labels, scale, depth + 1),
                          os.path.join(out, "imagination.png"))
  gif = pictures.save_gif(pictures.gif_frames(rows, labels, scale), os.path.join(out, "imagination.gif"),
                          gif_ms)
  record = dict(real_actions=actions.tolist(), real_rewards=rewards.tolist(), labels=labels,
                later_actions=None if later is None else later.tolist(),
                imagined_rewards=np.round(imagined_rewards, 4).tolist())
  with open(os.path.join(out, "imagination.json"), "w") as f:
    json.dump(record, f, indent=1)
  return dict(png=png, gif=gif, size=pictures.grid_size(len(rows), depth + 1, *frames.shape[1:3], scale))


def train_config_from_flags(fv: flags.FlagValues):
  """launch.train's config from the flags. Here --env_model_checkpoint names the model to draw with, so
  launch.train's check that only imagining agents take one is skipped for model-free agents."""
  flag = fv["env_model_checkpoint"]
  imagines = (fv.imag_path or ("none" if fv.agent in ("standard", "large") else "imag")) == "imag"
  saved = (flag.present, flag.value)
  if not imagines:
    flag.present, flag.value = 0, None
  try:
    return train.config_from_flags(fv)
  finally:
    flag.present, flag.value = saved


def agent_policies(config, prefix: str, num_actions: int):
  """(real-action policy, imagined-action policy) of the launch.train agent at `prefix`."""
  agent = collect.load_agent(config, prefix)
  if agent.rollout_policy is not None:  # I2A's distilled rollout policy (paper Sec. 3.1).
    return collect.AgentPolicy(agent, 1), lambda frames: agent.rollout_policy(frames)[0].numpy()
  initial = agent.initial_state(num_actions)  # A model-free agent acting on each imagined frame.
  return collect.AgentPolicy(agent, 1), lambda frames: agent(frames, initial)[0].action.numpy()


def run_with_flags(fv: flags.FlagValues) -> dict:
  """The binary's work, from parsed flags (launch.train's and `define_flags`'); returns `write_pictures`'s
  result. Raises app.UsageError for bad flags or a model that does not fit the game."""
  config = prefix = None
  try:
    if not fv.env_model_checkpoint or not fv.out:
      raise ValueError("--env_model_checkpoint and --out are required.")
    metadata = model_training.load_metadata(fv.env_model_checkpoint)
    if fv["env"].present and fv.env != metadata["game"]:
      raise ValueError(f"--env={fv.env} but the model {fv.env_model_checkpoint!r} was trained for "
                       f"{metadata['game']}.")
    if fv.agent_checkpoint:
      config = train_config_from_flags(fv)
      env_config = config.env
      prefix = collect.resolve_agent_checkpoint(fv.agent_checkpoint)
    else:
      env_config = environments.EnvConfig(
          game=metadata["game"], task=fv.task, num_boxes=fv.num_boxes, max_steps=fv.max_steps,
          levels=fv.levels, room_size=metadata["room_size"] or fv.room_size,
          pixels_per_cell=metadata["pixels_per_cell"] or fv.pixels_per_cell)
    model = load_model(fv.env_model_checkpoint, env_config)
  except (ValueError, checkpointing.CheckpointError) as e:
    raise app.UsageError(str(e)) from e
  seed = max(fv.seed, 0)
  env = environments.build_env(env_config, 1, seed=seed)
  if prefix is None:
    policy, rollout_policy = collect.RandomPolicy(env.num_actions, seed), None
  else:
    policy, rollout_policy = agent_policies(config, prefix, env.num_actions)
  result = write_pictures(model, env, policy, rollout_policy, fv.depth, fv.out,
                          train_env_model.ACTION_NAMES[env_config.game], fv.start_steps, fv.scale,
                          fv.gif_ms, seed)
  logging.info("Wrote %s and %s (%dx%d pixels).", result["png"], result["gif"], *result["size"])
  return result


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  run_with_flags(flags.FLAGS)


if __name__ == "__main__":
  define_flags()
  app.run(main)
