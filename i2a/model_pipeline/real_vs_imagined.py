"""Pictures of imagination from a real state (paper Fig. 3 and Sec. 3.1: one rollout per first action):
real frames of a real rollout beside the frames the environment model imagines, as a PNG grid, an
animated GIF and a JSON record."""
import json
import os
from typing import Callable

import dm_env
import numpy as np

from i2a.model_pipeline import pictures
from i2a.training import inference


def real_rollout(env, policy, start_steps: int, depth: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """Plays `start_steps`, then up to `depth` more steps of copy 0, stopping at the episode's end.

  Returns:
    frames uint8 [T, H, W, 3] (the start frame and the T-1 <= depth frames after it), actions int32
    [T-1] and rewards float32 [T-1].
  """
  timestep = env.reset()
  for _ in range(start_steps):
    timestep = env.step(policy(timestep))
  while timestep.step_type[0] == dm_env.StepType.LAST:  # Start inside an episode.
    timestep = env.step(policy(timestep))
  frames, actions, rewards = [timestep.observation["rgb"][0]], [], []
  while len(actions) < depth:
    action = policy(timestep)
    timestep = env.step(action)
    frames.append(timestep.observation["rgb"][0])
    actions.append(int(action[0]))
    rewards.append(float(timestep.reward[0]))
    if timestep.step_type[0] == dm_env.StepType.LAST:
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
  imagined, imagined_rewards = pictures.rollouts_per_action(model, frames[0], env.num_actions, depth,
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


def agent_policies(agent, num_actions: int) -> tuple[Callable, Callable]:
  """(real-action policy, imagined-action policy) of a trained agent (`inference.restore_agent`)."""
  if agent.rollout_policy is not None:  # I2A's distilled rollout policy (paper Sec. 3.1).
    return inference.AgentActions(agent, 1), lambda frames: agent.rollout_policy(frames)[0].numpy()
  initial = agent.initial_state(num_actions)  # A model-free agent acting on each imagined frame.
  return inference.AgentActions(agent, 1), lambda frames: agent(frames, initial)[0].action.numpy()
