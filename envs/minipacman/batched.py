"""N MiniPacman games stepped together behind the `envs.batched.BatchedEnvironment` interface.

Seeds: copy i draws from `np.random.default_rng(np.random.SeedSequence(seed).spawn(num_envs)[i])`, so
its episodes are exactly those of `MiniPacman(task, seed=np.random.SeedSequence(seed).spawn(num_envs)[i])`
given the same actions (tested). Every game draws straight into its row of one [N, H, W, 3] frame
buffer, so a step costs one copy of that buffer plus table look-ups for the events and rewards.
"""
from typing import Optional, Sequence

import dm_env
import numpy as np

from envs import batched
from envs.minipacman import env as env_lib
from envs.minipacman import game as game_lib
from envs.minipacman import maze as maze_lib
from envs.minipacman import tasks

_FIRST, _MID, _LAST = int(dm_env.StepType.FIRST), int(dm_env.StepType.MID), int(dm_env.StepType.LAST)


def derived_seeds(seed: env_lib.SeedLike, num_envs: int) -> list[np.random.SeedSequence]:
  """The seed of each copy: `np.random.SeedSequence(seed).spawn(num_envs)`."""
  root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
  return np.random.SeedSequence(root.entropy, spawn_key=root.spawn_key).spawn(num_envs)


class BatchedMiniPacman(batched.BatchedEnvironment):
  """`num_envs` copies of `env.MiniPacman` with automatic reset.

  Args:
    num_envs: N >= 1.
    task: one of tasks.TASKS.
    seed: an int, a np.random.SeedSequence, or None; copy seeds derive from it (module docstring).
    frame_cap: steps per episode; the last ends it with discount 0, as a death does.
    maze_rows: the map (default maze.STANDARD_MAP).
  """

  def __init__(self, num_envs: int, task: str = "regular", seed: env_lib.SeedLike = None,
               frame_cap: int = env_lib.FRAME_CAP, maze_rows: Optional[Sequence[str]] = None):
    if not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
      raise ValueError(f"BatchedMiniPacman num_envs must be a positive int; got {num_envs!r}.")
    env_lib.check_args(task, frame_cap)
    self._n = int(num_envs)
    self._task = task
    self._frame_cap = int(frame_cap)
    self._maze = maze_lib.build_maze(maze_lib.STANDARD_MAP if maze_rows is None else maze_rows)
    self._rgb = np.zeros((self._n, self._maze.height, self._maze.width, 3), np.uint8)
    self._games = [game_lib.Game(self._maze, task, np.random.default_rng(s), self._rgb[i])
                   for i, s in enumerate(derived_seeds(seed, self._n))]
    self._events = tasks.event_table()
    # Rewards per event code; the FIRST row is 0 (interface convention).
    self._rewards = tasks.reward_table(task)
    self._steps = [0] * self._n
    self._needs_reset = [True] * self._n

  @property
  def num_envs(self) -> int:
    return self._n

  @property
  def num_actions(self) -> int:
    return maze_lib.NUM_ACTIONS

  @property
  def task(self) -> str:
    return self._task

  @property
  def games(self) -> list[game_lib.Game]:
    """The underlying games, one per copy (read-only use)."""
    return self._games

  def observation_spec(self) -> dict:
    """The spec of ONE copy's observation (batched arrays add a leading N axis)."""
    return env_lib.observation_spec(self._maze)

  def reset(self) -> batched.BatchedTimeStep:
    for game in self._games:
      game.new_episode()
    self._steps = [0] * self._n
    self._needs_reset = [False] * self._n
    codes = np.full(self._n, tasks.CODE_FIRST)
    return self._timestep(np.full(self._n, _FIRST, np.int32), codes, np.ones(self._n, np.float32))

  def step(self, actions: np.ndarray) -> batched.BatchedTimeStep:
    actions = np.asarray(actions)
    if actions.shape != (self._n,) or not np.issubdtype(actions.dtype, np.integer):
      raise ValueError(f"BatchedMiniPacman actions must be int [{self._n}]; got {actions.dtype} "
                       f"{actions.shape}.")
    if actions.size and (actions.min() < 0 or actions.max() >= maze_lib.NUM_ACTIONS):
      raise ValueError(f"BatchedMiniPacman actions must be in [0, {maze_lib.NUM_ACTIONS}); got {actions}.")
    frame_cap, steps, needs_reset = self._frame_cap, self._steps, self._needs_reset
    codes = [0] * self._n
    step_types = [_MID] * self._n
    discounts = [1.0] * self._n
    for i, (game, a) in enumerate(zip(self._games, actions.tolist())):
      if needs_reset[i]:
        game.new_episode()
        steps[i] = 0
        needs_reset[i] = False
        codes[i] = tasks.CODE_FIRST
        step_types[i] = _FIRST
        continue
      code = codes[i] = game.step(a)
      steps[i] += 1
      if code & tasks.CODE_KILLED or steps[i] >= frame_cap:  # Both end the episode (discount 0).
        step_types[i], discounts[i], needs_reset[i] = _LAST, 0.0, True
    return self._timestep(np.array(step_types, np.int32), np.array(codes),
                          np.array(discounts, np.float32))

  def _timestep(self, step_types: np.ndarray, codes: np.ndarray,
                discounts: np.ndarray) -> batched.BatchedTimeStep:
    return batched.BatchedTimeStep(
        step_type=step_types, reward=self._rewards[codes], discount=discounts,
        observation={"rgb": self._rgb.copy(), "events": self._events[codes]})
