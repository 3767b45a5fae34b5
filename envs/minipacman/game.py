"""The MiniPacman game state machine, shared by the single (`env.py`) and batched (`batched.py`) forms.

The rules are those of DeepMind's released MiniPacman ("PillEater", the game of the paper's Sec. 5).

A level starts (level 1 and every later one) with: food on every free cell (under the pills and under
Pacman too); 2 power pills on uniformly random free cells (they may share a cell); Pacman on a uniformly
random free cell; 1 + (level - 1) // 2 ghosts, each on a uniformly random free cell outside the square
of rows r-5..r+4 and columns c-5..c+4 around Pacman at (r, c), each with a uniformly random direction;
power 0, ghost speed 0.5 + 0.1 (level - 1), level timer 0.

One step with action a:
  1. the level timer counts the step; 2. power = max(0, power - 1);
  3. Pacman moves (a move into a wall, or 'stay', keeps its cell) and eats the food of its cell, then
     one pill of its cell (power = 20); if that empties what ends the task's level, the next level
     starts at once and the step goes on in it;
  4. each ghost in order: if it is not on Pacman's cell, it moves with probability speed (halved while
     powered; ghosts.py says where); then, if it is on Pacman's cell, Pacman dies when not powered (the
     other ghosts still move), or the ghost is eaten when powered (it leaves the level, and no later
     ghost moves this step; the last ghost eaten may end the level);
  5. the frame is drawn: Pacman over ghosts over pills over food over walls;
  6. if the level timer reached the task's (Avoid: 128), the next level starts: the frame of this step
     still shows the old level.

Random draws (a single stream of uniforms u in [0, 1); a choice among n things takes item int(u * n)):
per level, pill 1, pill 2, Pacman's cell, then per ghost its cell and its direction (1 + int(4 u)); per
step and ghost that is not on Pacman, one draw for the speed test (it moves if u < speed), then the
draws of ghosts.choose_move. The released code draws a ghost's first direction from 0..3 while moves are
1..4 (a quirk that only changes a ghost's first move); we draw it from the 4 moves, as intended. It also
gives Pacman a random facing direction, which nothing uses; we draw none.

Speed: the state is Python ints and lists over flat cell indices, uniforms come in blocks from a seeded
np.random.Generator (the same numbers as drawing them one by one), and only the cells under the moving
sprites are redrawn into a persistent uint8 frame through a memoryview.
"""
import numpy as np

from envs.minipacman import maze as maze_lib
from envs.minipacman import tasks
from envs.minipacman.ghosts import choose_move

POWER_DURATION = 20  # Power set to 20 on eating a pill (released game).
NUM_PILLS = 2  # 2 power pills per level (released game).
_UNIFORM_BLOCK = 4096
_BLACK, _WALL, _FOOD, _PILL = maze_lib.BLACK, maze_lib.WALL, maze_lib.FOOD, maze_lib.PILL
_NA = maze_lib.NUM_ACTIONS
_CLEAR_CODES = {tasks.CLEAR_ON_FOOD: 0, tasks.CLEAR_ON_GHOSTS: 1, tasks.CLEAR_ON_PILLS: 2}


def num_ghosts(level: int) -> int:
  """Ghosts on `level` (1-based): 1 + (level - 1) // 2."""
  return 1 + (level - 1) // 2


def ghost_speed(level: int) -> float:
  """A ghost's move probability on `level`: 0.5 + 0.1 (level - 1), uncapped (from level 6 on, a ghost
  always moves while Pacman has no power)."""
  return 0.5 + 0.1 * (level - 1)


def edible_green(power: int) -> int:
  """The uint8 green channel of a ghost, 255 * power / 20 rounded half up (so 25.5 -> 26): the
  released game's (1, power / 20, 0) stored as 0..255. 0 when not powered (red)."""
  return int(255 * power / POWER_DURATION + 0.5)


class Game:
  """One MiniPacman game drawing into a caller-owned frame.

  Args:
    maze: the map and its tables.
    task: one of tasks.TASKS (its level end and level timer matter here; rewards live in the wrappers).
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
    self._level_timer = tasks.level_timer(task) or -1  # -1: no level timer (the timer never gets there).
    self.reseed(rng)
    self._mv = memoryview(frame.reshape(-1))
    self._colours = [bytes(colour) for colour in maze_lib.PALETTE.tolist()]
    self._ghost_colours = [bytes((255, edible_green(p), 0)) for p in range(POWER_DURATION + 1)]
    self._base_kind = bytes(_WALL if wall else _FOOD for wall in maze.walls.reshape(-1))
    self._kind = bytearray(self._base_kind)  # Each cell's palette index without pills and sprites.
    self._moves, self._options = maze.moves, maze.ghost_options
    self._row_of, self._col_of = maze.row_of, maze.col_of
    self._level, self._power, self._speed, self._timer = 0, 0, 0.5, 0
    self._pacman = maze.free_cells[0]
    self._pills: list[int] = []  # Cells of the pills left (a cell may hold two).
    self._ghost_cells: list[int] = []
    self._ghost_headings: list[int] = []
    self._food_left = 0
    self._stale = True  # The frame does not show the current state (a level started after drawing).

  def reseed(self, rng: np.random.Generator) -> None:
    """Draws from `rng` from now on (unused uniforms of the old generator are dropped)."""
    self._rng = rng
    self._uniforms: list[float] = []
    self._next_uniform = _UNIFORM_BLOCK

  def _uniform(self) -> float:
    """One uniform float in [0, 1) from the current block (refilled from the generator when used up)."""
    i = self._next_uniform
    if i == _UNIFORM_BLOCK:
      self._uniforms = self._rng.random(_UNIFORM_BLOCK).tolist()
      i = 0
    self._next_uniform = i + 1
    return self._uniforms[i]

  def new_episode(self) -> None:
    """Starts level 1 and draws it."""
    self._start_level(1)
    self._render_all()

  def _start_level(self, level: int) -> None:
    """Sets up `level` as the module docstring says; the frame is redrawn at the next drawing."""
    uniform, free = self._uniform, self._maze.free_cells
    n = len(free)
    self._kind[:] = self._base_kind
    self._food_left = n
    self._pills = [free[int(uniform() * n)] for _ in range(NUM_PILLS)]
    self._pacman = free[int(uniform() * n)]
    spawn = self._maze.spawn_cells[self._pacman]
    cells, headings = [], []
    for _ in range(num_ghosts(level)):
      cells.append(spawn[int(uniform() * len(spawn))])
      headings.append(1 + int(uniform() * 4))  # One of the 4 moves (right, up, left, down).
    self._ghost_cells, self._ghost_headings = cells, headings
    self._level, self._power, self._speed, self._timer = level, 0, ghost_speed(level), 0
    self._stale = True

  def _render_all(self) -> None:
    colours, mv = self._colours, self._mv
    mv[:] = b"".join([colours[k] for k in self._kind])
    for p in self._pills:
      mv[3 * p:3 * p + 3] = colours[_PILL]
    self._draw_sprites()
    self._stale = False

  def _draw_sprites(self) -> None:
    """The ghosts, then Pacman over them."""
    mv = self._mv
    colour = self._ghost_colours[self._power]
    for g in self._ghost_cells:
      mv[3 * g:3 * g + 3] = colour
    o = 3 * self._pacman
    mv[o:o + 3] = self._colours[maze_lib.PACMAN]

  def _erase_sprites(self) -> None:
    """Redraws the cells under Pacman and the ghosts as pill, food, wall or empty."""
    mv, colours, kind, pills = self._mv, self._colours, self._kind, self._pills
    for c in [self._pacman] + self._ghost_cells:
      mv[3 * c:3 * c + 3] = colours[_PILL] if c in pills else colours[kind[c]]

  def step(self, action: int) -> int:
    """Advances one step with `action` (an int in [0, 5), not checked) and returns its event code.

    The code packs the events (tasks.CODE_FOOD | CODE_PILL | CODE_GHOST | CODE_KILLED bits). After a
    kill the episode is over; the caller starts the next with `new_episode`.
    """
    if not self._stale:
      self._erase_sprites()
    self._timer += 1
    if self._power > 0:  # Counted down before Pacman moves.
      self._power -= 1
    pac = self._pacman = self._moves[self._pacman * _NA + action]
    code = 0
    kind = self._kind
    if kind[pac] == _FOOD:
      kind[pac] = _BLACK
      self._food_left -= 1
      code = tasks.CODE_FOOD
      if self._food_left == 0 and self._clear == 0:
        self._start_level(self._level + 1)
        pac = self._pacman
    pills = self._pills
    if pac in pills:
      pills.remove(pac)  # One pill only, if two share the cell.
      self._power = POWER_DURATION
      code |= tasks.CODE_PILL
      if not pills and self._clear == 2:
        self._start_level(self._level + 1)
        pac = self._pacman
    code |= self._move_ghosts(pac)
    if self._stale:
      self._render_all()
    else:
      self._draw_sprites()
    if self._timer == self._level_timer:
      self._start_level(self._level + 1)
    return code

  def _move_ghosts(self, pac: int) -> int:
    """Step 4 of the module docstring; returns the CODE_GHOST / CODE_KILLED bits."""
    uniform, options, row_of, col_of = self._uniform, self._options, self._row_of, self._col_of
    cells, headings = self._ghost_cells, self._ghost_headings
    powered = self._power > 0
    speed = self._speed * 0.5 if powered else self._speed  # Halved while Pacman is powered.
    pac_row, pac_col = row_of[pac], col_of[pac]
    code = 0
    for i in range(len(cells)):
      g = cells[i]
      if g != pac:
        if uniform() >= speed:
          continue
        move = choose_move(options[g * _NA + headings[i]], pac_row - row_of[g], pac_col - col_of[g],
                           powered, uniform)
        headings[i] = move[0]
        g = cells[i] = move[1]
        if g != pac:
          continue
      if not powered:
        code |= tasks.CODE_KILLED  # The other ghosts still move.
        continue
      del cells[i]  # Eaten: gone for the rest of the level, and no later ghost moves this step.
      del headings[i]
      if not cells and self._clear == 1:
        self._start_level(self._level + 1)
      return code | tasks.CODE_GHOST
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
  def level_timer(self) -> int:
    """Steps taken in the current level."""
    return self._timer

  @property
  def pacman(self) -> tuple[int, int]:
    return self._row_of[self._pacman], self._col_of[self._pacman]

  @property
  def ghosts(self) -> list[tuple[int, int]]:
    return [(self._row_of[g], self._col_of[g]) for g in self._ghost_cells]

  @property
  def ghost_headings(self) -> list[int]:
    """Each ghost's current direction (1..4: right, up, left, down)."""
    return list(self._ghost_headings)

  @property
  def food_cells(self) -> list[tuple[int, int]]:
    return [(self._row_of[c], self._col_of[c]) for c, k in enumerate(self._kind) if k == _FOOD]

  @property
  def pill_cells(self) -> list[tuple[int, int]]:
    """The pills left, one entry per pill (two pills may share a cell)."""
    return [(self._row_of[c], self._col_of[c]) for c in self._pills]

  @property
  def food_left(self) -> int:
    return self._food_left

  @property
  def pills_left(self) -> int:
    return len(self._pills)
