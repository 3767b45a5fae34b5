"""Phases 1 and 2 of the Sokoban level generator (paper App. D.4): room topology and placement.

Phase 1 carves a room out of solid wall with a random walk; at every step the walker's cell and a
small random pattern of cells around it become floor. Phase 2 picks distinct random floor cells for
the targets and the player. Both phases draw only from the NumPy generator they are given, so they
are deterministic for a given generator state.
"""
import numpy as np

# Small carving patterns, as 3x3 masks centred on the walker (App. D.4: "a random small pattern").
# Our own choice of shapes: the single cell keeps corridors one wide; bars, an L, a 2x2 block and a
# plus make rooms, corners and wider corridors. Each is drawn with equal probability.
PATTERNS = np.array([
    [[0, 0, 0], [0, 1, 0], [0, 0, 0]],  # the walker's cell only
    [[0, 0, 0], [1, 1, 1], [0, 0, 0]],  # horizontal bar
    [[0, 1, 0], [0, 1, 0], [0, 1, 0]],  # vertical bar
    [[0, 0, 0], [0, 1, 1], [0, 1, 1]],  # 2x2 block
    [[0, 0, 0], [0, 1, 1], [0, 1, 0]],  # L corner
    [[0, 1, 0], [1, 1, 1], [0, 1, 0]],  # plus
], dtype=bool)

# Unit moves of the walker: up, down, left, right as (d_row, d_col).
_DIRECTIONS = ((-1, 0), (1, 0), (0, -1), (0, 1))


def carve_room(rng: np.random.Generator, width: int, height: int, walk_length: int,
               change_probability: float) -> np.ndarray:
  """Phase 1: carves a room with a random walk (App. D.4).

  The walk starts on a uniformly random interior cell with a uniformly random direction; before each
  step it turns, with probability `change_probability`, to one of the three other directions. A step
  that would enter the outer wall ring is clamped (the walker stays put but still carves), so the
  border is never carved.

  Args:
    rng: source of randomness.
    width: room width in cells, >= 3.
    height: room height in cells, >= 3.
    walk_length: number of walk steps.
    change_probability: per-step probability of a change of direction (D.4: 0.35).

  Returns:
    bool [height, width], True for floor; the outer ring is always False.
  """
  floor = np.zeros((height, width), dtype=bool)
  row = int(rng.integers(1, height - 1))
  col = int(rng.integers(1, width - 1))
  direction = int(rng.integers(4))
  turns = rng.random(walk_length) < change_probability
  new_directions = rng.integers(1, 4, size=walk_length)  # offset to one of the 3 other directions
  patterns = rng.integers(len(PATTERNS), size=walk_length)
  for step in range(walk_length):
    if turns[step]:
      direction = (direction + int(new_directions[step])) % 4
    d_row, d_col = _DIRECTIONS[direction]
    row = min(max(row + d_row, 1), height - 2)
    col = min(max(col + d_col, 1), width - 2)
    pattern = PATTERNS[patterns[step]]
    for p_row in range(3):
      for p_col in range(3):
        if pattern[p_row, p_col]:
          r, c = row + p_row - 1, col + p_col - 1
          if 1 <= r <= height - 2 and 1 <= c <= width - 2:
            floor[r, c] = True
  return floor


def place_targets_and_player(rng: np.random.Generator, floor: np.ndarray,
                             num_boxes: int) -> tuple[list[tuple[int, int]], tuple[int, int]] | None:
  """Phase 2: distinct uniformly random floor cells for the targets and the player (App. D.4).

  Args:
    rng: source of randomness.
    floor: bool [H, W] room from `carve_room`.
    num_boxes: number of targets to place.

  Returns:
    (target cells as (row, col), player cell), or None if the room has fewer than num_boxes + 1
    floor cells.
  """
  cells = np.argwhere(floor)
  if len(cells) < num_boxes + 1:
    return None
  chosen = rng.choice(len(cells), size=num_boxes + 1, replace=False)
  targets = [(int(cells[i][0]), int(cells[i][1])) for i in chosen[:num_boxes]]
  player = (int(cells[chosen[-1]][0]), int(cells[chosen[-1]][1]))
  return targets, player
