"""How a MiniPacman ghost picks its next cell, as in DeepMind's released game.

`Maze.ghost_options` already applies the map rules: the only way out, or in a corridor the current
direction (else the one that is not its reverse), is a single forced option; at a junction the reverse
of the current direction is removed. Here the junction choice: each remaining move is scored by the dot
product of its (d_row, d_col) with the direction to Pacman (integer offsets: scaling them to a unit
vector changes no comparison). While Pacman has no power a ghost chases (highest score), except that
with probability 0.05 it takes a uniformly random remaining move; while Pacman is powered it flees
(lowest score) and never moves at random. Ties go to the first move in action order (right, up, left,
down). (The released rule keeps the current direction when a ghost is on Pacman's cell; that cannot
happen here, since a ghost on Pacman's cell is dealt with before it would move: game.py, step 4.)

Random draws: none for a forced move or while fleeing; at a junction while chasing one uniform u in
[0, 1), and if u < 0.05 a second one, v, picking option `int(v * len(options))`.
"""
from typing import Callable

OPTION = tuple[int, int, int, int]  # (direction, next cell, d_row, d_col).

RANDOM_MOVE_PROBABILITY = 0.05  # The released game: 5% random moves while chasing.


def choose_move(options: tuple[OPTION, ...], to_pacman_row: int, to_pacman_col: int, flee: bool,
                uniform: Callable[[], float]) -> OPTION:
  """Picks a ghost's move.

  Args:
    options: the ghost's possible moves from `Maze.ghost_options` (never empty).
    to_pacman_row, to_pacman_col: Pacman's row and column minus the ghost's.
    flee: True while Pacman is powered (lowest dot product, no random move).
    uniform: draws one float in [0, 1); called as the module docstring says.

  Returns:
    The chosen option (direction, next cell, d_row, d_col).
  """
  if len(options) == 1:
    return options[0]
  if flee:
    best = options[0]
    best_score = best[2] * to_pacman_row + best[3] * to_pacman_col
    for option in options[1:]:
      score = option[2] * to_pacman_row + option[3] * to_pacman_col
      if score < best_score:
        best, best_score = option, score
    return best
  if uniform() < RANDOM_MOVE_PROBABILITY:
    return options[int(uniform() * len(options))]
  best = options[0]
  best_score = best[2] * to_pacman_row + best[3] * to_pacman_col
  for option in options[1:]:
    score = option[2] * to_pacman_row + option[3] * to_pacman_col
    if score > best_score:
      best, best_score = option, score
  return best
