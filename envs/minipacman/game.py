"""The MiniPacman game state machine, shared by the single (`env.py`) and batched (`batched.py`) forms.

Dynamics follow DeepMind's released PillEater code (spec Sec. 4.2). One step:
  1. the power counter runs down by one;
  2. Pacman moves (a move into a wall stays put) and eats the food or power pill it lands on (a pill
     sets the power to 20);
  3. each ghost in turn: collision check, a move with probability `ghost_speed` (halved while powered),
     collision check. A collision while powered eats the ghost (at most one per step; it leaves the
     level), otherwise Pacman dies;
  4. if the task's level condition holds (tasks.py), the next level starts at once.

Our choices where the spec is silent: pill cells and Pacman's start cell hold no food; ghosts may
spawn on one cell or on a pill; a new ghost has no heading (any first move); an eaten ghost stays gone
for the level; after a kill the remaining ghosts do not move; ghosts are drawn over Pacman; the edible
green channel is rounded half up.

Speed: the state is Python ints and lists over flat cell indices, random numbers come from blocks of
uniforms drawn from a seeded np.random.Generator, and only the cells under the moving sprites are
redrawn into a persistent uint8 frame through a memoryview.
"""
from typing import Optional, Sequence

import numpy as np

from envs.minipacman import maze as maze_lib
from envs.minipacman import tasks
from envs.minipacman.ghosts import choose_move

POWER_DURATION = 20  # Spec 4.2: power set to 20 on eating a pill.
NUM_PILLS = 2  # Spec 4.2: 2 power pills per level.
_UNIFORM_BLOCK = 4096
_BLACK, _WALL, _FOOD, _PILL = maze_lib.BLACK, maze_lib.WALL, maze_lib.FOOD, maze_lib.PILL
_NA = maze_lib.NUM_ACTIONS
_CLEAR_CODES = {tasks.CLEAR_ON_FOOD: 0, tasks.CLEAR_ON_GHOSTS: 1, tasks.CLEAR_ON_PILLS: 2}


def num_ghosts(level: int) -> int:
  """Ghosts on `level` (1-based): 1 + (level - 1) // 2 (spec 4.2)."""
  return 1 + (level - 1) // 2


def ghost_speed(level: int) -> float:
  """A ghost's move probability on `level`: 0.5 + 0.1 (level - 1) (spec 4.2), capped at 1."""
  return min(1.0, 0.5 + 0.1 * (level - 1))


def edible_green(power: int) -> int:
  """The green channel of an edible ghost: 255 * power / 20 rounded half up (0 when not powered)."""
  return int(255 * power / POWER_DURATION + 0.5)


class Game:
  """One MiniPacman game drawing into a caller-owned frame.

  Args:
    maze: the map and its tables.
    task: one of tasks.TASKS (only the level condition matters here; rewards live in the wrappers).
    rng: the seeded generator all randomness comes from.
    frame: uint8 [maze.height, maze.width, 3], C-contiguous; the game keeps it rendered.
  """

  def __init__(self, maze: maze_lib.Maze, task: str, rng: np.random.Generator, frame: np.ndarray):
    shape = (maze.height, maze.width, 3)
    if frame.shape != shape or frame.dtype != np.uint8 or not frame.flags.c_contiguous:
      raise ValueError(f"MiniPacman frame must be C-contiguous uint8 {shape}; got {frame.dtype} "
                       f"{frame.shape}.")
    self._maze = maze
    self._clear = _CLEAR_CODES[tasks.clear_condition(task)]
    self._rng = rng
    self._uniforms: list[float] = []
    self._next_uniform = _UNIFORM_BLOCK
    self._mv = memoryview(frame.reshape(-1))
    self._colours = [bytes(colour) for colour in maze_lib.PALETTE.tolist()]
    self._ghost_colours = [bytes((255, edible_green(p), 0)) for p in range(POWER_DURATION + 1)]
    self._base_kind = bytes(_WALL if wall else _FOOD for wall in maze.walls.reshape(-1))
    self._kind = bytearray(self._base_kind)  # Palette index of each cell's background.
    self._moves, self._options = maze.moves, maze.ghost_options
    self._row_of, self._col_of = maze.row_of, maze.col_of
    self._level = 0
    self._power = 0
    self._speed = 0.5
    self._pacman = maze.free_cells[0]
    self._ghost_cells: list[int] = []
    self._ghost_headings: list[int] = []
    self._food_left = 0
    self._pills_left = 0

  def _uniform(self) -> float:
    """One uniform float in [0, 1) from the current block (refilled from the generator when used up)."""
    i = self._next_uniform
    if i == _UNIFORM_BLOCK:
      self._uniforms = self._rng.random(_UNIFORM_BLOCK).tolist()
      i = 0
    self._next_uniform = i + 1
    return self._uniforms[i]

  def new_episode(self) -> None:
    """Starts level 1."""
    self._start_level(1)

  def _start_level(self, level: int) -> None:
    """Food everywhere, 2 pills and Pacman at random free cells, ghosts outside the box (spec 4.2)."""
    uniform, free, kind = self._uniform, self._maze.free_cells, self._kind
    self._level, self._power, self._speed = level, 0, ghost_speed(level)
    kind[:] = self._base_kind
    self._pacman = free[int(uniform() * len(free))]
    kind[self._pacman] = _BLACK
    pills = 0
    while pills < NUM_PILLS:
      cell = free[int(uniform() * len(free))]
      if kind[cell] == _FOOD:
        kind[cell] = _PILL
        pills += 1
    self._food_left, self._pills_left = len(free) - 1 - NUM_PILLS, NUM_PILLS
    spawn = self._maze.spawn_cells[self._pacman]
    self._ghost_cells = [spawn[int(uniform() * len(spawn))] for _ in range(num_ghosts(level))]
    self._ghost_headings = [maze_lib.NO_HEADING] * len(self._ghost_cells)
    self._render_all()

  def _render_all(self) -> None:
    colours = self._colours
    self._mv[:] = b"".join([colours[k] for k in self._kind])
    self._draw_sprites()

  def _draw_sprites(self) -> None:
    """Pacman, then the ghosts on top of it."""
    mv = self._mv
    o = 3 * self._pacman
    mv[o:o + 3] = self._colours[maze_lib.PACMAN]
    colour = self._ghost_colours[self._power]
    for g in self._ghost_cells:
      o = 3 * g
      mv[o:o + 3] = colour

  def step(self, action: int) -> int:
    """Advances one step with `action` (an int in [0, 5), not checked) and returns its event code.

    The code packs the events (tasks.CODE_FOOD | CODE_PILL | CODE_GHOST | CODE_KILLED bits). After a
    kill the game is over until `new_episode`; a cleared level has already been replaced by the next.
    """
    mv, colours, kind, uniform = self._mv, self._colours, self._kind, self._uniform
    row_of, col_of, options = self._row_of, self._col_of, self._options
    cells, headings = self._ghost_cells, self._ghost_headings
    if self._power > 0:  # Spec 4.2: decremented at the start of each step.
      self._power -= 1
    pac = self._pacman
    o = 3 * pac
    mv[o:o + 3] = colours[kind[pac]]
    for g in cells:
      o = 3 * g
      mv[o:o + 3] = colours[kind[g]]

    pac = self._moves[pac * _NA + action]
    self._pacman = pac
    code = 0
    k = kind[pac]
    if k == _FOOD:
      kind[pac] = _BLACK
      self._food_left -= 1
      code = tasks.CODE_FOOD
    elif k == _PILL:
      kind[pac] = _BLACK
      self._pills_left -= 1
      self._power = POWER_DURATION
      code = tasks.CODE_PILL

    powered = self._power > 0
    speed = self._speed * 0.5 if powered else self._speed  # Spec 4.2: halved while powered.
    pac_row, pac_col = row_of[pac], col_of[pac]
    eaten = -1
    for i in range(len(cells)):
      g = cells[i]
      if g == pac:  # Spec 4.2: collisions checked before and after each ghost move.
        if not powered:
          code |= tasks.CODE_KILLED
          break
        if eaten < 0:
          eaten = i
          continue
      if uniform() < speed:
        move = choose_move(options[g * _NA + headings[i]], pac_row - row_of[g], pac_col - col_of[g],
                           powered, uniform)
        headings[i] = move[0]
        g = cells[i] = move[1]
        if g == pac:
          if not powered:
            code |= tasks.CODE_KILLED
            break
          if eaten < 0:
            eaten = i
    if eaten >= 0:  # At most one ghost eaten per step; it is gone for the rest of the level.
      del cells[eaten]
      del headings[eaten]
      code |= tasks.CODE_GHOST

    if not code & tasks.CODE_KILLED:
      clear = self._clear
      if ((clear == 0 and self._food_left == 0) or (clear == 1 and not cells)
          or (clear == 2 and self._pills_left == 0)):
        self._start_level(self._level + 1)
        return code
    self._draw_sprites()
    return code

  # Read-only views of the state, for tests, debugging and pictures.
  @property
  def level(self) -> int:
    return self._level

  @property
  def power(self) -> int:
    return self._power

  @property
  def ghost_speed(self) -> float:
    return self._speed

  @property
  def pacman(self) -> tuple[int, int]:
    return self._row_of[self._pacman], self._col_of[self._pacman]

  @property
  def ghosts(self) -> list[tuple[int, int]]:
    return [(self._row_of[g], self._col_of[g]) for g in self._ghost_cells]

  @property
  def food_cells(self) -> list[tuple[int, int]]:
    return [(self._row_of[c], self._col_of[c]) for c, k in enumerate(self._kind) if k == _FOOD]

  @property
  def pill_cells(self) -> list[tuple[int, int]]:
    return [(self._row_of[c], self._col_of[c]) for c, k in enumerate(self._kind) if k == _PILL]

  @property
  def food_left(self) -> int:
    return self._food_left

  @property
  def pills_left(self) -> int:
    return self._pills_left

  def _set_state_for_testing(self, pacman: tuple[int, int], ghosts: Sequence[Sequence[int]] = (),
                             food: Optional[Sequence[tuple[int, int]]] = None,
                             pills: Sequence[tuple[int, int]] = (), power: int = 0, level: int = 1,
                             speed: Optional[float] = None) -> None:
    """TEST ONLY: replaces the whole state and redraws the frame.

    Args:
      pacman: (row, col) of Pacman.
      ghosts: (row, col) or (row, col, heading) per ghost; heading defaults to NO_HEADING.
      food: (row, col) of every food cell; None puts food on every free cell not holding Pacman or a pill.
      pills: (row, col) of every power pill.
      power: remaining power in [0, 20].
      level: the level number (>= 1).
      speed: the ghosts' move probability (before halving); None uses the level's.
    """
    width, walls = self._maze.width, self._maze.walls

    def cell(pos: Sequence[int]) -> int:
      r, c = int(pos[0]), int(pos[1])
      if not (0 <= r < self._maze.height and 0 <= c < width) or walls[r, c]:
        raise ValueError(f"MiniPacman test state: ({r}, {c}) is not a free cell.")
      return r * width + c

    if not 0 <= power <= POWER_DURATION or level < 1:
      raise ValueError(f"MiniPacman test state: power {power} or level {level} out of range.")
    kind = self._kind
    kind[:] = bytes(_WALL if k == _WALL else _BLACK for k in self._base_kind)
    self._pacman = cell(pacman)
    pill_cells = {cell(p) for p in pills}
    food_cells = ({c for c in self._maze.free_cells if c != self._pacman} - pill_cells if food is None
                  else {cell(f) for f in food})
    for c in food_cells:
      kind[c] = _FOOD
    for c in pill_cells:
      kind[c] = _PILL
    self._food_left, self._pills_left = len(food_cells - pill_cells), len(pill_cells)
    self._ghost_cells = [cell(g) for g in ghosts]
    self._ghost_headings = [int(g[2]) if len(g) > 2 else maze_lib.NO_HEADING for g in ghosts]
    self._level, self._power = level, power
    self._speed = ghost_speed(level) if speed is None else float(speed)
    self._render_all()
