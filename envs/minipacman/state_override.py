"""The test hook of `game.Game`: replace the whole state of a game by hand.

Tests build exact situations with it (a ghost one cell from Pacman, the last food, a timer about to
run out) instead of searching for them in seeded play.
"""
from typing import Optional, Sequence

from envs.minipacman import maze as maze_lib


class StateOverrideMixin:
  """Adds `_set_state_for_testing` to `game.Game` (it uses the game's private state)."""

  def _set_state_for_testing(self, pacman: tuple[int, int], ghosts: Sequence[Sequence[int]] = (),
                             food: Optional[Sequence[tuple[int, int]]] = None,
                             pills: Sequence[tuple[int, int]] = (), power: int = 0, level: int = 1,
                             speed: Optional[float] = None, timer: int = 0) -> None:
    """TEST ONLY: replaces the whole state and redraws the frame.

    Args:
      pacman: (row, col) of Pacman.
      ghosts: (row, col) or (row, col, direction) per ghost, in the order they move; the direction
        (1..4: right, up, left, down) defaults to maze.NO_HEADING.
      food: (row, col) of every food cell; None puts food on every free cell, as a level start does.
      pills: (row, col) of every power pill (a cell may be listed twice).
      power: remaining power in [0, 20].
      level: the level number (>= 1).
      speed: the ghosts' move probability (before halving); None uses the level's.
      timer: steps already taken in the level (>= 0).
    """
    from envs.minipacman import game as game_lib  # pylint: disable=g-import-not-at-top
    maze = self._maze
    width, walls = maze.width, maze.walls

    def cell(pos: Sequence[int]) -> int:
      r, c = int(pos[0]), int(pos[1])
      if not (0 <= r < maze.height and 0 <= c < width) or walls[r, c]:
        raise ValueError(f"MiniPacman test state: ({r}, {c}) is not a free cell.")
      return r * width + c

    if not 0 <= power <= game_lib.POWER_DURATION or level < 1 or timer < 0:
      raise ValueError(f"MiniPacman test state: power {power}, level {level} or timer {timer} out of "
                       "range.")
    headings = [int(g[2]) if len(g) > 2 else maze_lib.NO_HEADING for g in ghosts]
    if any(not 0 <= h < maze_lib.NUM_ACTIONS for h in headings):
      raise ValueError(f"MiniPacman test state: ghost directions {headings} must be in [0, 5).")
    food_cells = set(maze.free_cells) if food is None else {cell(f) for f in food}
    self._kind[:] = bytes(maze_lib.FOOD if c in food_cells else maze_lib.WALL if k == maze_lib.WALL
                          else maze_lib.BLACK for c, k in enumerate(self._base_kind))
    self._food_left = len(food_cells)
    self._pacman = cell(pacman)
    self._pills = [cell(p) for p in pills]
    self._ghost_cells = [cell(g) for g in ghosts]
    self._ghost_headings = headings
    self._level, self._power, self._timer = level, power, timer
    self._speed = game_lib.ghost_speed(level) if speed is None else float(speed)
    self._render_all()
