"""The MiniPacman map and its lookup tables."""
import numpy as np
import pytest

from envs.minipacman import ghosts
from envs.minipacman import maze as maze_lib
from testing import minipacman_reference

_DIRS = ((0, 1), (-1, 0), (0, -1), (1, 0))
R, U, L, D = maze_lib.RIGHT, maze_lib.UP, maze_lib.LEFT, maze_lib.DOWN


def _free(rows):
  return {(r, c) for r, line in enumerate(rows) for c, ch in enumerate(line) if ch == "."}


# The released map as 0/1 text (1 = wall), row 0 at the top: the reference game's copy.
RELEASED_MAP = minipacman_reference.RELEASED_MAP


def test_standard_map_is_the_released_map():
  rows = maze_lib.STANDARD_MAP
  assert [line.replace("#", "1").replace(".", "0") for line in rows] == RELEASED_MAP
  assert (maze_lib.HEIGHT, maze_lib.WIDTH) == (15, 19)
  assert all(line == line[::-1] for line in rows) and list(rows) == list(rows[::-1])  # Symmetric.
  free = _free(rows)
  assert len(free) == len(maze_lib.build_maze().free_cells) == 138
  seen, stack = {min(free)}, [min(free)]
  while stack:
    r, c = stack.pop()
    for dr, dc in _DIRS:
      if (r + dr, c + dc) in free and (r + dr, c + dc) not in seen:
        seen.add((r + dr, c + dc))
        stack.append((r + dr, c + dc))
  assert seen == free


def test_build_maze_is_built_once_per_map():
  assert maze_lib.build_maze() is maze_lib.build_maze(list(maze_lib.STANDARD_MAP))


def test_moves_table_matches_grid():
  maze = maze_lib.build_maze()
  free = _free(maze.rows)
  for r, c in free:
    cell = r * maze.width + c
    assert maze.moves[cell * 5 + maze_lib.STAY] == cell
    for action, (dr, dc) in zip(range(1, 5), _DIRS):
      target = (r + dr, c + dc) if (r + dr, c + dc) in free else (r, c)
      assert maze.moves[cell * 5 + action] == target[0] * maze.width + target[1]


def test_action_order_is_stay_right_up_left_down():
  assert maze_lib.ACTION_NAMES == ("stay", "right", "up", "left", "down")
  assert maze_lib.DELTAS == ((0, 0), (0, 1), (-1, 0), (0, -1), (1, 0))


def _expected_directions(open_dirs, heading):
  """The released rule written out: 1 open: it; 2 open: keep the heading, else not back; more: not back."""
  back = {R: L, L: R, U: D, D: U}.get(heading)
  if len(open_dirs) == 1:
    return open_dirs
  if len(open_dirs) == 2:
    return [heading] if heading in open_dirs else [[d for d in open_dirs if d != back][0]]
  return [d for d in open_dirs if d != back]


def test_ghost_options_follow_the_released_rules_on_every_cell():
  maze = maze_lib.build_maze()
  kinds = set()
  for cell in maze.free_cells:
    open_dirs = [d for d in range(1, 5) if maze.moves[cell * 5 + d] != cell]
    kinds.add(len(open_dirs))
    for heading in range(1, 5):
      options = maze.ghost_options[cell * 5 + heading]
      assert [o[0] for o in options] == _expected_directions(open_dirs, heading)
      for d, nxt, dr, dc in options:
        assert nxt == maze.moves[cell * 5 + d] and (dr, dc) == maze_lib.DELTAS[d]
  assert kinds == {2, 3, 4}


def test_ghost_options_reverse_only_out_of_a_dead_end():
  maze = maze_lib.build_maze(["###############",
                              "#.............#",
                              "#.###########.#",
                              "#.............#",
                              "#######.#######",
                              "#######.#######",
                              "###############"])
  corridor, dead_end = 4 * 15 + 7, 5 * 15 + 7
  assert [o[0] for o in maze.ghost_options[corridor * 5 + D]] == [D]
  assert [o[:2] for o in maze.ghost_options[dead_end * 5 + D]] == [(U, corridor)]


def test_spawn_cells_lie_outside_the_square_of_rows_r_minus_5_to_r_plus_4():
  maze = maze_lib.build_maze()
  for cell in maze.free_cells:
    r, c = maze.row_of[cell], maze.col_of[cell]
    expected = [f for f in maze.free_cells
                if not (r - 5 <= maze.row_of[f] <= r + 4 and c - 5 <= maze.col_of[f] <= c + 4)]
    assert list(maze.spawn_cells[cell]) == expected and expected
  # The square is lopsided: 5 rows before Pacman at (7, 5), 4 after.
  spawn = maze.spawn_cells[7 * 19 + 5]
  assert 2 * 19 + 5 not in spawn and 1 * 19 + 5 in spawn and 12 * 19 + 5 in spawn


def test_palette_matches_the_released_colours():
  spec = np.array([[0, 0, 0], [1, 1, 1], [0, 0, 1], [0, 1, 1], [0, 1, 0], [1, 0, 0], [1, 1, 0]]) * 255
  assert maze_lib.PALETTE.dtype == np.uint8 and maze_lib.PALETTE.shape == (7, 3)
  np.testing.assert_array_equal(maze_lib.PALETTE, spec)


@pytest.mark.parametrize("rows, message", [
    pytest.param([], "empty", id="empty"),
    pytest.param(["#####", "#..#", "#####"], "row 1 has 4", id="ragged"),
    pytest.param(["#####", "#.x.#", "#####"], "row 1 holds", id="bad_char"),
    pytest.param(["#####", "#....", "#####"], "border", id="no_border"),
    pytest.param(["###", "#.#", "###"], "free cells", id="too_small"),
    pytest.param(["#####", "#.#.#", "#####"], "enclosed", id="enclosed"),
    pytest.param(["#######", "#..#..#", "#######"], "unreachable", id="unreachable"),
    pytest.param(["######", "#....#", "######"], "start a ghost", id="no_spawn"),
])
def test_build_maze_rejects_bad_maps(rows, message):
  with pytest.raises(ValueError, match=message):
    maze_lib.build_maze(rows)


def test_choose_move_chases_flees_and_explores():
  # Options (direction, next cell, d_row, d_col): right, up, down.
  options = ((R, 11, 0, 1), (U, 2, -1, 0), (D, 20, 1, 0))
  draws = lambda *u: iter(u).__next__  # A fake uniform() returning `u` in order, then StopIteration.
  # Towards Pacman (-1, 4): dot products right 4, up 1, down -1.
  assert ghosts.choose_move(options, -1, 4, False, draws(0.05))[0] == R
  assert ghosts.choose_move(options, -1, 4, False, draws(0.99))[0] == R
  # The 5% branch (u < 0.05): a second draw picks uniformly among the options.
  assert ghosts.choose_move(options, -1, 4, False, draws(0.049, 0.0))[0] == R
  assert ghosts.choose_move(options, -1, 4, False, draws(0.0, 0.5))[0] == U
  assert ghosts.choose_move(options, -1, 4, False, draws(0.0, 0.99))[0] == D
  # Fleeing: the lowest score, without drawing anything (an empty fake would raise).
  assert ghosts.choose_move(options, -1, 4, True, draws())[0] == D
  assert ghosts.choose_move(options, 0, 5, True, draws())[0] == U  # Up and down tie at 0: first.
  assert ghosts.choose_move(options[:1], 5, 5, False, draws()) == options[0]  # A forced move.
