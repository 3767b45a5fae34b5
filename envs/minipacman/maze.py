"""The MiniPacman maze, its colours, and the per-cell lookup tables the game steps with.

DeepMind's released MiniPacman ("PillEater", spec Sec. 4.2) plays on one fixed 15 x 19 map with walls on
the border. Its exact text is not available to us, so `STANDARD_MAP` is our own Pac-Man-style layout
with the same size: border walls, one-cell-wide corridors, no dead ends, left-right symmetric, every
free cell reachable, 24 junctions. THE EXACT LAYOUT OF THE RELEASED MAP IS NOT REPRODUCED (a recorded
deviation). The map is a plain list of strings ('#' wall, '.' free) so another can be swapped in.

Cells are numbered flat, `cell = row * width + col`; the tables are Python tuples so the game loop
never touches NumPy scalars.
"""
import dataclasses
from typing import Sequence

import numpy as np

STANDARD_MAP = [
    "###################",
    "#........#........#",
    "#.##.###.#.###.##.#",
    "#.................#",
    "#.##.#.#####.#.##.#",
    "#....#...#...#....#",
    "####.###.#.###.####",
    "####.#.......#.####",
    "####.#.#####.#.####",
    "#........#........#",
    "#.##.###.#.###.##.#",
    "#..#.....#.....#..#",
    "##.#.#.#.#.#.#.#.##",
    "##...#...#...#...##",
    "###################",
]
HEIGHT = len(STANDARD_MAP)
WIDTH = len(STANDARD_MAP[0])

# Actions, in the released code's order (spec 4.2): stay, right, up, left, down.
NUM_ACTIONS = 5
STAY, RIGHT, UP, LEFT, DOWN = range(NUM_ACTIONS)
ACTION_NAMES = ("stay", "right", "up", "left", "down")
DELTAS = ((0, 0), (0, 1), (-1, 0), (0, -1), (1, 0))  # (d_row, d_col) of each action.
REVERSE = (STAY, LEFT, DOWN, RIGHT, UP)
NO_HEADING = STAY  # A ghost's heading before its first move: no direction is excluded as a reversal.

# Ghosts spawn outside a +-5-cell box around Pacman (spec 4.2, released code).
SPAWN_BOX = 5

# Colours (spec 4.2): empty black, wall white, food blue, power pill cyan, Pacman green, ghost red,
# fully edible ghost yellow; an edible ghost fades (1, e, 0) with e = remaining power / 20.
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
    ghost_options: `ghost_options[cell * 5 + heading]` lists a ghost's moves from `cell` after moving
      in direction `heading` (NO_HEADING: none yet), as (direction, next cell, d_row, d_col); the
      reversal is excluded unless it is the only way out.
    spawn_cells: `spawn_cells[cell]` lists the free cells outside the +-SPAWN_BOX box around `cell`
      (empty for walls).
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
  """Validates a map and precomputes its tables.

  Args:
    rows: the map, one string per row, '#' for walls and '.' for free cells, walls on the border.

  Returns:
    The Maze.

  Raises:
    ValueError: if the map is ragged, holds other characters, lacks the wall border, has fewer than 4
      free cells, has an unreachable free cell, or has a free cell with nowhere to spawn a ghost.
  """
  rows = tuple(rows)
  _validate(rows)
  height, width = len(rows), len(rows[0])
  walls = np.array([[ch == "#" for ch in line] for line in rows], dtype=bool)
  walls.setflags(write=False)
  free_cells = tuple(r * width + c for r in range(height) for c in range(width) if not walls[r, c])
  if len(free_cells) < 4:
    raise ValueError(f"MiniPacman map has {len(free_cells)} free cells; Pacman and 2 pills need >= 4.")
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
    for heading in range(NUM_ACTIONS):
      dirs = [d for d in open_dirs if d != REVERSE[heading]] or open_dirs  # REVERSE[NO_HEADING] is STAY.
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
    far = tuple(c for c in free_cells if abs(row_of[c] - row_of[cell]) > SPAWN_BOX
                or abs(col_of[c] - col_of[cell]) > SPAWN_BOX)
    if not far:
      raise ValueError(f"MiniPacman map has no free cell outside the +-{SPAWN_BOX} box around "
                       f"(row {row_of[cell]}, col {col_of[cell]}) to spawn ghosts in.")
    spawn_cells.append(far)

  return Maze(rows=rows, height=height, width=width, walls=walls, free_cells=free_cells,
              row_of=row_of, col_of=col_of, moves=tuple(moves), ghost_options=tuple(ghost_options),
              spawn_cells=tuple(spawn_cells))
