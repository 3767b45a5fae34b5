"""I2A with an outer Monte Carlo search (paper Sec. 4.3, Table 1: 95% of levels with 4k model steps).

At the start of a level the agent plays whole episodes *in imagination*: its policy acts on the model's
predicted frames, up to `max_retries` times (paper: 10); the first imagined episode the model says solves
the level is executed in the real environment. The retries are imagined side by side as one batch, but
counted as the paper's sequential retries: attempts after the first success are not charged.

Model steps per level count every environment-model step: one per imagined move of the outer search,
plus the policy's own imagination (an I2A step imagines num_actions rollouts of depth d: Sec. 3.1).

If no attempt solves the level in imagination, the attempt with the highest imagined return is executed
(the paper does not say what it did then; with a perfect model that attempt fails in reality too).

Everything is written against two small protocols, `Policy` and `EpisodeModel`; `search_models.py` has a
perfect model over the simulator, and adapters for a trained `I2AAgent` and its learned environment model.
"""
import dataclasses
from typing import Any, NamedTuple, Protocol

import numpy as np


class ModelStep(NamedTuple):
  """One imagined step of N episodes.

  Attributes:
    frame: float32 [N, H, W, 3] in [0, 1], the predicted next frames.
    reward: float32 [N], the predicted rewards.
    solved: bool [N], the model says this step solves the level.
  """
  frame: np.ndarray
  reward: np.ndarray
  solved: np.ndarray


class EpisodeModel(Protocol):
  """A model that imagines N episodes at once from a real frame."""

  def reset(self, frame: np.ndarray, num_copies: int) -> np.ndarray:
    """Starts `num_copies` imagined episodes at the real frame (H, W, 3; uint8 or float in [0, 1]).
    Returns the first frames, float32 [N, H, W, 3] in [0, 1]."""

  def step(self, actions: np.ndarray) -> ModelStep:
    """Advances every imagined episode by its action (int [N])."""


class Policy(Protocol):
  """A (possibly recurrent) policy on frames; `model_steps_per_step` is the imagination it does itself."""
  model_steps_per_step: int

  def initial_state(self, num_copies: int) -> Any:
    """The recurrent state of `num_copies` fresh episodes."""

  def __call__(self, frames: np.ndarray, state: Any) -> tuple[np.ndarray, Any]:
    """float32 [N, H, W, 3] frames -> (int [N] actions, next state)."""


@dataclasses.dataclass(frozen=True)
class OuterSearchConfig:
  """Attributes:
    max_retries: imagined episodes per level at most (paper Sec. 4.3: 10).
    max_episode_steps: length of an imagined episode at most (the real episode limit, 120).
  """
  max_retries: int = 10
  max_episode_steps: int = 120

  def __post_init__(self):
    if self.max_retries < 1 or self.max_episode_steps < 1:
      raise ValueError(f"OuterSearchConfig: max_retries and max_episode_steps must be >= 1, got "
                       f"{self.max_retries}, {self.max_episode_steps}")


class SearchResult(NamedTuple):
  """Attributes:
    plan: the actions to execute (the solving attempt's, else the best attempt's).
    found: some attempt solved the level in imagination.
    attempts: attempts charged (the index of the solving attempt + 1, or max_retries).
    model_steps: environment-model steps charged (see the module docstring).
  """
  plan: list[int]
  found: bool
  attempts: int
  model_steps: int


def search(policy: Policy, model: EpisodeModel, frame: np.ndarray,
           config: OuterSearchConfig = OuterSearchConfig()) -> SearchResult:
  """Imagines up to `config.max_retries` episodes from the real `frame` [H, W, 3]; see the module doc."""
  n = config.max_retries
  frames = model.reset(frame, n)
  state = policy.initial_state(n)
  actions = np.zeros((n, config.max_episode_steps), np.int64)
  lengths = np.zeros(n, np.int64)
  returns = np.zeros(n, np.float64)
  running = np.ones(n, bool)
  solved = np.zeros(n, bool)
  for t in range(config.max_episode_steps):
    first_solved = int(np.argmax(solved)) if solved.any() else n
    if not running[:first_solved].any():  # Attempts after the first success are never charged.
      break
    action, state = policy(frames, state)
    action = np.asarray(action)
    step = model.step(action)
    actions[running, t] = action[running]
    lengths += running
    returns += np.where(running, step.reward, 0.0)
    solved |= running & np.asarray(step.solved, bool)
    running &= ~np.asarray(step.solved, bool)
    frames = step.frame
  found = bool(solved.any())
  charged = int(np.argmax(solved)) + 1 if found else n
  chosen = charged - 1 if found else int(np.argmax(returns))
  per_step = 1 + policy.model_steps_per_step
  return SearchResult(plan=actions[chosen, :lengths[chosen]].tolist(), found=found, attempts=charged,
                      model_steps=int(lengths[:charged].sum()) * per_step)


def evaluate(policy: Policy, model: EpisodeModel, env, num_levels: int,
             config: OuterSearchConfig = OuterSearchConfig()) -> dict:
  """Plays `num_levels` levels of a single Sokoban `env` (dm_env, obs 'rgb') with the outer search.

  Each level: reset, search from the first frame, execute the plan in `env` until the episode ends.

  Returns:
    dict with levels, solved, fraction_solved (by the real environment), fraction_found (the model said
    an attempt solves), mean_model_steps per level, mean_attempts.
  """
  solved, found, steps, attempts = [], [], [], []
  for _ in range(num_levels):
    timestep = env.reset()
    result = search(policy, model, timestep.observation["rgb"], config)
    for action in result.plan:
      timestep = env.step(action)
      if timestep.last():
        break
    solved.append(bool(timestep.last() and timestep.discount == 0))
    found.append(result.found)
    steps.append(result.model_steps)
    attempts.append(result.attempts)
  return dict(levels=num_levels, solved=int(np.sum(solved)), fraction_solved=float(np.mean(solved)),
              fraction_found=float(np.mean(found)), mean_model_steps=float(np.mean(steps)),
              mean_attempts=float(np.mean(attempts)), max_retries=config.max_retries)
