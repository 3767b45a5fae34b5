"""How a MiniPacman ghost picks its next cell (released PillEater code, spec Sec. 4.2).

Ghosts follow corridors and never reverse at a junction (the reversal is excluded from
`Maze.ghost_options` unless it is the only way out). Where there is a choice, a ghost moves greedily
with probability 0.95 and uniformly at random otherwise: greedy means the move whose direction has the
largest dot product with the vector towards Pacman (chase), or the smallest while Pacman is powered
(flee). Ties go to the first move in action order (right, up, left, down).

Our choice where the spec is silent: the 5% random move also applies while fleeing.
"""
from typing import Callable

OPTION = tuple[int, int, int, int]  # (direction, next cell, d_row, d_col).

CHASE_PROBABILITY = 0.95  # Spec 4.2: chase with prob 0.95, random with 0.05.


def choose_move(options: tuple[OPTION, ...], to_pacman_row: int, to_pacman_col: int, flee: bool,
                uniform: Callable[[], float]) -> OPTION:
  """Picks a ghost's move.

  Args:
    options: the ghost's possible moves from `Maze.ghost_options` (never empty).
    to_pacman_row, to_pacman_col: Pacman's row and column minus the ghost's.
    flee: True while Pacman is powered (minimise instead of maximise the dot product).
    uniform: draws one float in [0, 1); called once for a choice between moves, twice for a random
      move, never when there is a single option.

  Returns:
    The chosen option (direction, next cell, d_row, d_col).
  """
  if len(options) == 1:
    return options[0]
  if uniform() < CHASE_PROBABILITY:
    sign = -1 if flee else 1
    best = options[0]
    best_score = sign * (best[2] * to_pacman_row + best[3] * to_pacman_col)
    for option in options[1:]:
      score = sign * (option[2] * to_pacman_row + option[3] * to_pacman_col)
      if score > best_score:
        best, best_score = option, score
    return best
  return options[int(uniform() * len(options))]
