"""Models and policies for the outer search (`outer_search.py`): the real simulator as a perfect model,
a trained environment model, a trained agent.

`SimulatorModel` reads the level off the real frame and copies the game into N simulator copies
(`Sokoban.get_state` / `BatchedSokoban.set_state`). `LearnedModel` rolls a learned environment model
forward on its own predicted frames; a Sokoban level is solved where the predicted reward is the solving
push's (the 10.9 bin of `i2a.games.SOKOBAN_REWARD_BINS`). `AgentPolicy` plays a trained `I2AAgent`.
"""
from typing import Optional, Sequence

import numpy as np
import tensorflow as tf

from envs.sokoban import batched as batched_lib
from envs.sokoban import env as env_lib
from envs.sokoban import level as level_lib
from i2a import frame_stack as frame_stack_lib
from i2a import agent_interface
from i2a import games
from i2a.env_models import sokoban_model
from i2a.planning import outer_search
from i2a.planning import symbolic

_SOLVE_REWARD = games.SOKOBAN_SOLVING_REWARD  # The solving push: -0.1 + 1 + 10 = 10.9.
_NEVER = 1_000_000_000  # The simulator copies never hit a time limit: the search caps episodes itself.


def _as_float(frames: np.ndarray) -> np.ndarray:
  frames = np.asarray(frames)
  return frames.astype(np.float32) / 255.0 if frames.dtype == np.uint8 else frames.astype(np.float32)


class SimulatorModel:
  """The perfect model: N copies of the real game (`outer_search.EpisodeModel`)."""

  def __init__(self, pixels_per_cell: int = 8):
    """Args: pixels_per_cell: the sprite side of the frames it is reset from."""
    self._ppc = pixels_per_cell
    self._envs: Optional[batched_lib.BatchedSokoban] = None

  def reset(self, frame: np.ndarray, num_copies: int) -> np.ndarray:
    level = symbolic.level_from_frame(frame, self._ppc)
    height, width = level.shape
    boxes = int(np.isin(level, (level_lib.BOX, level_lib.BOX_ON_TARGET)).sum())
    single = env_lib.Sokoban(width, height, boxes, _NEVER, observation="symbolic", levels=[level])
    single.reset()
    state = single.get_state(include_rng=False)
    envs = self._envs
    if envs is None or (envs.num_envs, envs.config.height, envs.config.width, envs.config.num_boxes) != (
        num_copies, height, width, boxes):
      # After an imagined success a copy restarts on this level (never a generated one: that is slow).
      envs = self._envs = batched_lib.BatchedSokoban(num_copies, width, height, boxes, _NEVER,
                                                     pixels_per_cell=self._ppc, levels=[level])
    for i in range(num_copies):
      envs.set_state(i, state)
    return np.repeat(_as_float(frame)[None], num_copies, axis=0)

  def step(self, actions: np.ndarray) -> outer_search.ModelStep:
    ts = self._envs.step(np.asarray(actions, np.int64))
    solved = (ts.step_type == 2) & (ts.discount == 0)
    return outer_search.ModelStep(_as_float(ts.observation["rgb"]), ts.reward.astype(np.float32), solved)


class LearnedModel:
  """A learned environment model `model(frame_stack, action) -> EnvModelOutput` on its own predictions.

  The model's input is a stack of the last `stack_size` frames (the agent's frame stack; 1 for the
  paper's models), started from zeros and the real frame, as the agent's own state starts.
  """

  def __init__(self, env_model, reward_bins: Sequence[float] = games.SOKOBAN_REWARD_BINS,
               stack_size: int = 1):
    """Args:
      env_model: e.g. `I2AAgent.env_model` (a `SokobanEnvModel` with a reward head).
      reward_bins: the model's reward bins; one must be the solving reward 10.9.
      stack_size: frames in the model's input stack.
    """
    bins = [float(b) for b in reward_bins]
    if not any(abs(b - _SOLVE_REWARD) < 1e-6 for b in bins):
      raise ValueError(f"LearnedModel needs a solving reward bin {_SOLVE_REWARD} to read 'solved' from; "
                       f"got bins {bins} (a frames-only model cannot tell when a level is solved)")
    if isinstance(env_model, sokoban_model.SokobanEnvModel) and not env_model.config.predict_reward:
      raise ValueError("LearnedModel: this environment model predicts frames only, so it cannot say when "
                       "a level is solved; use a model with a reward head")
    self._terminal = env_model.predicted_terminal
    self._stack_size = stack_size
    self._call = tf.function(env_model.__call__)
    self._stack = None

  def reset(self, frame: np.ndarray, num_copies: int) -> np.ndarray:
    frames = np.repeat(_as_float(frame)[None], num_copies, axis=0)
    height, width = frames.shape[1:3]
    zeros = tf.zeros([num_copies, height, width, frame_stack_lib.FRAME_CHANNELS * self._stack_size])
    self._stack = frame_stack_lib.update_frame_stack(zeros, tf.constant(frames))
    return frames

  def step(self, actions: np.ndarray) -> outer_search.ModelStep:
    out = self._call(self._stack, tf.constant(np.asarray(actions), tf.int32))
    self._stack = frame_stack_lib.update_frame_stack(self._stack, out.frame)
    # One rule for "this imagined step ends the episode", shared with the Monte Carlo agent's returns.
    solved = self._terminal(out)
    return outer_search.ModelStep(out.frame.numpy(), out.reward.numpy(), solved.numpy())


class AgentPolicy:
  """A trained `I2AAgent` as an `outer_search.Policy`: it samples its policy (or acts greedily)."""

  def __init__(self, agent: agent_interface.Agent, greedy: bool = False):
    """Args: agent: an `I2AAgent`; greedy: act by the argmax of the policy logits instead of sampling."""
    self._agent = agent
    self._greedy = greedy
    self._call = tf.function(agent)
    # Each agent step imagines one rollout of `rollout_depth` model steps per action (Sec. 3.1).
    self.model_steps_per_step = (agent.num_actions * agent.rollout_depth
                                 if agent.rollout_depth is not None else 0)

  def initial_state(self, num_copies: int) -> tf.Tensor:
    return self._agent.initial_state(num_copies)

  def __call__(self, frames: np.ndarray, state: tf.Tensor) -> tuple[np.ndarray, tf.Tensor]:
    output, state = self._call(tf.constant(frames, tf.float32), state)
    logits = output.policy_logits.numpy()
    action = np.argmax(logits, axis=-1) if self._greedy else output.action.numpy()
    return action.astype(np.int64), state


def evaluate_agent(agent, num_levels: int, room_size: int = 10, num_boxes: int = 4,
                   pixels_per_cell: int = 8, max_steps: int = 120, max_retries: int = 10,
                   levels: Optional[np.ndarray] = None, perfect_model: bool = False, greedy: bool = False,
                   seed: int = 0) -> dict:
  """Paper Table 1's "I2A + outer Monte Carlo search" row for a trained Sokoban `I2AAgent`.

  Args:
    agent: the agent (an I2A with a learned model, unless `perfect_model`).
    num_levels: levels to play.
    room_size, num_boxes, pixels_per_cell, max_steps: the Sokoban settings the agent was trained on.
    max_retries: imagined episodes per level at most (paper: 10).
    levels: uint8 [L, room_size, room_size] levels to draw from, or None to generate them.
    perfect_model: imagine with the real simulator instead of the agent's environment model.
    greedy: act by the policy's argmax instead of sampling (sampling makes retries differ).
    seed: seeds the levels.

  Returns:
    dict with box_count, episodes, solved, fraction_solved, fraction_found, mean_model_steps,
    mean_attempts, max_retries, perfect_model, and agent_model_steps_per_step (the model steps the agent
    imagines per move by itself, included in mean_model_steps: with the perfect model and one attempt
    the search is the agent playing alone, and those are its own model steps).

  Raises:
    ValueError: the agent has no environment model (and `perfect_model` is False), or a frames-only one.
  """
  if perfect_model:
    model = SimulatorModel(pixels_per_cell)
  else:
    if agent.env_model is None:
      raise ValueError("the outer search imagines with the agent's environment model, and this agent "
                       "has none; use an I2A agent or perfect_model=True")
    # The paper's Sokoban model stores its bins; the talk's models on Sokoban use the game's (factory).
    bins = (agent.env_model.reward_bins if isinstance(agent.env_model, sokoban_model.SokobanEnvModel)
            else games.SOKOBAN_REWARD_BINS)
    model = LearnedModel(agent.env_model, bins, agent.stack_size)
  env = env_lib.Sokoban(room_size, room_size, num_boxes, max_steps, pixels_per_cell=pixels_per_cell,
                        levels=levels, seed=seed)
  config = outer_search.OuterSearchConfig(max_retries=max_retries, max_episode_steps=max_steps)
  policy = AgentPolicy(agent, greedy)
  row = outer_search.evaluate(policy, model, env, num_levels, config)
  levels_played = row.pop("levels")
  return dict(box_count=num_boxes, episodes=levels_played, **row, perfect_model=perfect_model,
              agent_model_steps_per_step=policy.model_steps_per_step)
