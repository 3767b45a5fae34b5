"""The MiniPacman maze, its colours, and the per-cell lookup tables the game steps with.

`STANDARD_MAP` is the 15 x 19 map of DeepMind's released MiniPacman ("PillEater", the game behind the
paper's Sec. 5 results, shipped with the talk's notebook): walls on the border, one-cell-wide corridors,
no dead ends, symmetric left-right and top-bottom, 138 free cells. A map is a plain list of strings
('#' wall, '.' free), so another can be swapped in.

Cells are numbered flat, `cell = row * width + col`; the tables are Python tuples so the game loop
never touches NumPy scalars.
"""
import dataclasses
import functools
from typing import Sequence

import numpy as np

# The released map, row 0 at the top.
STANDARD_MAP = [
    "###################",
    "#...#.........#...#",
    "#.#.#.#######.#.#.#",
    "#.................#",
    "#.#.#.#######.#.#.#",
    "#.#.............#.#",
    "#.####.#####.####.#",
    "#......#####......#",
    "#.####.#####.####.#",
    "#.#.............#.#",
    "#.#.#.#######.#.#.#",
    "#.................#",
    "#.#.#.#######.#.#.#",
    "#...#.........#...#",
    "###################",
]
HEIGHT = len(STANDARD_MAP)
WIDTH = len(STANDARD_MAP[0])

# Actions, in the released game's order: stay, right, up, left, down.
NUM_ACTIONS = 5
STAY, RIGHT, UP, LEFT, DOWN = range(NUM_ACTIONS)
ACTION_NAMES = ("stay", "right", "up", "left", "down")
DELTAS = ((0, 0), (0, 1), (-1, 0), (0, -1), (1, 0))  # (d_row, d_col) of each action.
REVERSE = (STAY, LEFT, DOWN, RIGHT, UP)
# Test states only: a ghost with no direction (a real ghost always has one of the 4 moves). Nothing is
# its reverse, so a corridor sends it along the first open move and a junction offers every move.
NO_HEADING = STAY

# Ghosts never start in the square of rows r-5..r+4 and columns c-5..c+4 around Pacman at (r, c), as in
# the released game.
SPAWN_BEFORE, SPAWN_AFTER = 5, 4

# Colours (released game, values 0/1 stored as 0/255): empty black, wall white, food blue, power pill
# cyan, Pacman green, ghost red, fully edible ghost yellow. An edible ghost is (1, power / 20, 0), so
# its green channel fades with the remaining power (game.edible_green).
BLACK, WALL, FOOD, PILL, PACMAN, GHOST, EDIBLE_GHOST = range(7)
PALETTE = np.array([
    [0, 0, 0],
    [255, 255, 255],
    [0, 0, 255],
    [0, 255, 255],
    [0, 255, 0],
    [255, 0, 0],
    [255, 255, 0],
], dtype=np.uint8)
PALETTE.setflags(write=False)
NUM_COLOURS = PALETTE.shape[0]


@dataclasses.dataclass(frozen=True)
class Maze:
  """A validated map and its lookup tables.

  Attributes:
    rows: the map text, one string per row.
    height, width: map size in cells.
    walls: bool [height, width], True on walls (read-only).
    free_cells: flat indices of the free cells, row-major.
    row_of, col_of: the row and column of every flat cell index.
    moves: `moves[cell * 5 + action]` is where Pacman goes from `cell` (itself if blocked).
    ghost_options: `ghost_options[cell * 5 + heading]` lists the moves a ghost at `cell` moving in
      direction `heading` chooses from, as (direction, next cell, d_row, d_col) in action order. One
      option is a forced move (one way out, or a corridor); two or more are a junction's choices.
    spawn_cells: `spawn_cells[cell]` lists the free cells a ghost may start on while Pacman is at
      `cell` (outside the spawn square; empty for walls).
  """
  rows: tuple[str, ...]
  height: int
  width: int
  walls: np.ndarray
  free_cells: tuple[int, ...]
  row_of: tuple[int, ...]
  col_of: tuple[int, ...]
  moves: tuple[int, ...]
  ghost_options: tuple[tuple[tuple[int, int, int, int], ...], ...]
  spawn_cells: tuple[tuple[int, ...], ...]


def ghost_directions(open_dirs: Sequence[int], heading: int) -> list[int]:
  """The released game's ghost rule for the moves a ghost may choose from.

  Args:
    open_dirs: the directions (1..4, ascending) that do not hit a wall.
    heading: the ghost's current direction (or NO_HEADING).

  Returns:
    One open direction: the only one; in a corridor (2 open) the heading if open, else the first that
    is not its reverse. Otherwise (a junction) every open direction but the reverse of the heading.
  """
  if len(open_dirs) == 1:
    return list(open_dirs)
  if len(open_dirs) == 2:
    if heading in open_dirs:
      return [heading]
    return [next(d for d in open_dirs if d != REVERSE[heading])]
  return [d for d in open_dirs if d != REVERSE[heading]]


def in_spawn_square(row: int, col: int, pacman_row: int, pacman_col: int) -> bool:
  """True if (row, col) is in the square where no ghost may start around Pacman."""
  return (max(1, pacman_row - SPAWN_BEFORE) <= row <= pacman_row + SPAWN_AFTER
          and max(1, pacman_col - SPAWN_BEFORE) <= col <= pacman_col + SPAWN_AFTER)


def _validate(rows: Sequence[str]) -> None:
  """Raises ValueError naming the first problem with a map."""
  if not rows:
    raise ValueError("MiniPacman map is empty.")
  width = len(rows[0])
  for r, line in enumerate(rows):
    if len(line) != width:
      raise ValueError(f"MiniPacman map row {r} has {len(line)} characters; row 0 has {width}.")
    bad = set(line) - {"#", "."}
    if bad:
      raise ValueError(f"MiniPacman map row {r} holds {sorted(bad)}; only '#' and '.' are allowed.")
  height = len(rows)
  for r, line in enumerate(rows):
    if (r in (0, height - 1) and set(line) != {"#"}) or line[0] != "#" or line[-1] != "#":
      raise ValueError(f"MiniPacman map row {r} breaks the wall border: {line!r}.")


def build_maze(rows: Sequence[str] = tuple(STANDARD_MAP)) -> Maze:
  """Validates a map and precomputes its tables (built once per map, then shared: a Maze is immutable).

  Args:
    rows: the map, one string per row, '#' for walls and '.' for free cells, walls on the border.

  Returns:
    The Maze.

  Raises:
    ValueError: if the map is ragged, holds other characters, lacks the wall border, has fewer than 2
      free cells, has an unreachable or enclosed free cell, or has a free cell with nowhere to start a
      ghost.
  """
  return _build_maze(tuple(rows))


@functools.lru_cache(maxsize=16)
def _build_maze(rows: tuple[str, ...]) -> Maze:
  """build_maze on a hashable map."""
  _validate(rows)
  height, width = len(rows), len(rows[0])
  walls = np.array([[ch == "#" for ch in line] for line in rows], dtype=bool)
  walls.setflags(write=False)
  free_cells = tuple(r * width + c for r in range(height) for c in range(width) if not walls[r, c])
  if len(free_cells) < 2:
    raise ValueError(f"MiniPacman map has {len(free_cells)} free cells; it needs at least 2.")
  num_cells = height * width
  row_of = tuple(cell // width for cell in range(num_cells))
  col_of = tuple(cell % width for cell in range(num_cells))
  is_free = [not walls[r, c] for r in range(height) for c in range(width)]

  moves = []
  for cell in range(num_cells):
    for dr, dc in DELTAS:
      target = cell + dr * width + dc
      moves.append(target if is_free[cell] and is_free[target] else cell)

  ghost_options = []
  for cell in range(num_cells):
    open_dirs = [d for d in range(1, NUM_ACTIONS) if is_free[cell] and moves[cell * NUM_ACTIONS + d] != cell]
    if is_free[cell] and not open_dirs:
      raise ValueError(f"MiniPacman map cell (row {row_of[cell]}, col {col_of[cell]}) is enclosed.")
    for heading in range(NUM_ACTIONS):
      dirs = ghost_directions(open_dirs, heading) if open_dirs else []
      ghost_options.append(tuple((d, moves[cell * NUM_ACTIONS + d]) + DELTAS[d] for d in dirs))

  seen, stack = {free_cells[0]}, [free_cells[0]]
  while stack:
    cell = stack.pop()
    for d in range(1, NUM_ACTIONS):
      nxt = moves[cell * NUM_ACTIONS + d]
      if nxt not in seen:
        seen.add(nxt)
        stack.append(nxt)
  for cell in free_cells:
    if cell not in seen:
      raise ValueError(f"MiniPacman map cell (row {row_of[cell]}, col {col_of[cell]}) is unreachable.")

  spawn_cells = []
  for cell in range(num_cells):
    if not is_free[cell]:
      spawn_cells.append(())
      continue
    far = tuple(c for c in free_cells
                if not in_spawn_square(row_of[c], col_of[c], row_of[cell], col_of[cell]))
    if not far:
      raise ValueError(f"MiniPacman map has no free cell to start a ghost in while Pacman is at "
                       f"(row {row_of[cell]}, col {col_of[cell]}).")
    spawn_cells.append(far)

  return Maze(rows=rows, height=height, width=width, walls=walls, free_cells=free_cells,
              row_of=row_of, col_of=col_of, moves=tuple(moves), ghost_options=tuple(ghost_options),
              spawn_cells=tuple(spawn_cells))
