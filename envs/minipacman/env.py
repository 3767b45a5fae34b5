"""MiniPacman as a fast `dm_env.Environment` (I2A paper Sec. 5; DeepMind's released "PillEater")."""
from typing import Any, Optional, Sequence, Union

import dm_env
from dm_env import specs
import numpy as np

from envs import batched as batched_lib
from envs.minipacman import game as game_lib
from envs.minipacman import maze as maze_lib
from envs.minipacman import tasks

SeedLike = Union[None, int, np.random.SeedSequence]
_MID, _LAST, _FIRST = dm_env.StepType.MID, dm_env.StepType.LAST, dm_env.StepType.FIRST
_ONE, _ZERO = np.float32(1.0), np.float32(0.0)
FRAME_CAP = 3000  # The released game ends an episode after 3000 steps.


def check_args(task: str, frame_cap: int) -> None:
  """Raises ValueError on an unknown task or a non-positive frame cap."""
  tasks.task_weights(task)
  if not isinstance(frame_cap, (int, np.integer)) or frame_cap < 1:
    raise ValueError(f"MiniPacman frame_cap must be a positive int; got {frame_cap!r}.")


def observation_spec(maze: maze_lib.Maze) -> dict[str, specs.Array]:
  """{'rgb': uint8 [H, W, 3], 'events': float32 [5] in {0, 1}} for `maze`."""
  return {"rgb": specs.Array((maze.height, maze.width, 3), np.uint8, name="rgb"),
          "events": specs.BoundedArray((tasks.NUM_EVENTS,), np.float32, 0.0, 1.0, name="events")}


class MiniPacman(dm_env.Environment):
  """Eat food and power pills, flee ghosts (or hunt them while powered) in a 15 x 19 maze.

  The rules, the map and the colours are those of DeepMind's released game (game.py, maze.py).

  Actions: 0 stay, 1 right, 2 up, 3 left, 4 down.

  Rewards: `task_weights(task) . events` (paper Sec. 5), events = (step, ate food, ate power pill, ate
  ghost, killed by ghost) as float32 0/1 indicators; see tasks.py for the table, what ends a level and
  Avoid's 128-step level timer. A level's end starts the next one within the same episode (Pacman
  re-placed, more and faster ghosts).

  Episode ends: Pacman eaten, or the `frame_cap`-th step; BOTH end the episode with discount 0, as the
  released game does (the frame cap is not a truncation). As in dm_env, the first step has reward and
  discount None, and `step()` after a LAST step (or on a fresh environment) starts a new episode,
  ignoring the action.

  Observations: {'rgb': uint8 [15, 19, 3] one pixel per cell (colours in maze.py; PALETTE holds the 7
  base colours, an edible ghost is (255, edible_green(power), 0)), 'events': float32 [5] the events of
  the step just taken (zeros on the first step)}. Baselines receive the events (paper Sec. 5) and
  environment models learn to predict them.

  Randomness: everything comes from `np.random.default_rng(seed)`; the same seed gives the same episodes
  for the same actions.

  Args:
    task: one of 'regular', 'avoid', 'hunt', 'ambush', 'rush'.
    seed: an int, a np.random.SeedSequence, or None (fresh entropy).
    frame_cap: steps per episode (3000 in the released game); the last ends it with discount 0.
    maze_rows: the map (default `maze.STANDARD_MAP`, the released map).
  """

  def __init__(self, task: str = "regular", seed: SeedLike = None, frame_cap: int = FRAME_CAP,
               maze_rows: Optional[Sequence[str]] = None):
    check_args(task, frame_cap)
    self._task = task
    self._frame_cap = int(frame_cap)
    self._maze = maze_lib.build_maze(maze_lib.STANDARD_MAP if maze_rows is None else maze_rows)
    self._frame = np.zeros((self._maze.height, self._maze.width, 3), np.uint8)
    self._game = game_lib.Game(self._maze, task, np.random.default_rng(seed), self._frame)
    self._events = tasks.event_table()
    self._rewards = [np.float32(r) for r in tasks.reward_table(task)]
    self._steps = 0
    self._needs_reset = True

  @property
  def task(self) -> str:
    return self._task

  def reseed(self, seed: SeedLike) -> None:
    """Draws from `np.random.default_rng(seed)` from now on; the next step starts a new episode."""
    self._game.reseed(np.random.default_rng(seed))
    self._needs_reset = True

  @property
  def game(self) -> game_lib.Game:
    """The underlying game (read its `level`, `power`, `pacman`, `ghosts`, ... properties)."""
    return self._game

  def reset(self) -> dm_env.TimeStep:
    self._game.new_episode()
    self._steps = 0
    self._needs_reset = False
    return dm_env.TimeStep(_FIRST, None, None, {
        "rgb": self._frame.copy(), "events": self._events[tasks.CODE_FIRST].copy()})

  def step(self, action: Any) -> dm_env.TimeStep:
    if self._needs_reset:
      return self.reset()
    a = batched_lib.check_action(action, maze_lib.NUM_ACTIONS)  # Floats and strings are refused, not cast.
    code = self._game.step(a)
    self._steps += 1
    obs = {"rgb": self._frame.copy(), "events": self._events[code].copy()}
    if code & tasks.CODE_KILLED or self._steps >= self._frame_cap:
      self._needs_reset = True
      return dm_env.TimeStep(_LAST, self._rewards[code], _ZERO, obs)
    return dm_env.TimeStep(_MID, self._rewards[code], _ONE, obs)

  def observation_spec(self) -> dict[str, specs.Array]:
    return observation_spec(self._maze)

  def action_spec(self) -> specs.DiscreteArray:
    return specs.DiscreteArray(maze_lib.NUM_ACTIONS, dtype=np.int32, name="action")

  def reward_spec(self) -> specs.Array:
    return specs.Array((), np.float32, name="reward")

  def discount_spec(self) -> specs.BoundedArray:
    return specs.BoundedArray((), np.float32, 0.0, 1.0, name="discount")

