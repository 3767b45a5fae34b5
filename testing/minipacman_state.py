"""Tests' hook into MiniPacman: replace the whole state of a game, or of an environment, by hand.

Tests build exact situations with it (a ghost one cell from Pacman, the last food, a timer about to
run out) instead of searching for them in seeded play. It lives here, not in envs/minipacman, because
only tests use it: the game package then has no test-only code, and game.py imports nothing that
imports it back (the cycle of issue 21, part 4). It writes the game's private state, so it changes with
game.py.

    env = env_lib.MiniPacman(task="regular", seed=0)
    env.reset()
    frame = minipacman_state.set_env_state(env, pacman=(3, 8), ghosts=[(13, 10, 1)], speed=0.0)
"""
from typing import Any, Optional, Sequence

import numpy as np

from envs.minipacman import env as env_lib
from envs.minipacman import game as game_lib
from envs.minipacman import maze as maze_lib

# pylint: disable=protected-access


def set_game_state(game: game_lib.Game, pacman: tuple[int, int], ghosts: Sequence[Sequence[int]] = (),
                   food: Optional[Sequence[tuple[int, int]]] = None, pills: Sequence[tuple[int, int]] = (),
                   power: int = 0, level: int = 1, speed: Optional[float] = None, timer: int = 0) -> None:
  """Replaces the whole state of `game` and redraws its frame.

  Args:
    game: the game to change.
    pacman: (row, col) of Pacman.
    ghosts: (row, col) or (row, col, direction) per ghost, in the order they move; the direction
      (1..4: right, up, left, down) defaults to maze.NO_HEADING.
    food: (row, col) of every food cell; None puts food on every free cell, as a level start does.
    pills: (row, col) of every power pill (a cell may be listed twice).
    power: remaining power in [0, game_lib.POWER_DURATION] (20).
    level: the level number (>= 1).
    speed: the ghosts' move probability (before halving); None uses the level's.
    timer: steps already taken in the level (>= 0).

  Raises:
    ValueError: a position is not a free cell, or power, level, timer or a direction is out of range.
  """
  maze = game._maze
  width, walls = maze.width, maze.walls

  def cell(pos: Sequence[int]) -> int:
    r, c = int(pos[0]), int(pos[1])
    if not (0 <= r < maze.height and 0 <= c < width) or walls[r, c]:
      raise ValueError(f"MiniPacman test state: ({r}, {c}) is not a free cell.")
    return r * width + c

  if not 0 <= power <= game_lib.POWER_DURATION or level < 1 or timer < 0:
    raise ValueError(f"MiniPacman test state: power {power}, level {level} or timer {timer} out of range.")
  headings = [int(g[2]) if len(g) > 2 else maze_lib.NO_HEADING for g in ghosts]
  if any(not 0 <= h < maze_lib.NUM_ACTIONS for h in headings):
    raise ValueError(f"MiniPacman test state: ghost directions {headings} must be in [0, 5).")
  food_cells = set(maze.free_cells) if food is None else {cell(f) for f in food}
  game._kind[:] = bytes(maze_lib.FOOD if c in food_cells else maze_lib.WALL if k == maze_lib.WALL
                        else maze_lib.BLACK for c, k in enumerate(game._base_kind))
  game._food_left = len(food_cells)
  game._pacman = cell(pacman)
  game._pills = [cell(p) for p in pills]
  game._ghost_cells = [cell(g) for g in ghosts]
  game._ghost_headings = headings
  game._level, game._power, game._timer = level, power, timer
  game._speed = game_lib.ghost_speed(level) if speed is None else float(speed)
  game._render_all()


def set_env_state(env: env_lib.MiniPacman, **state: Any) -> np.ndarray:
  """Sets the state of `env`'s game (the arguments of `set_game_state`) mid-episode, at step 0.

  Returns:
    uint8 [H, W, 3], a copy of the redrawn frame.
  """
  set_game_state(env._game, **state)
  env._steps = 0
  env._needs_reset = False
  return env._frame.copy()
