"""The MiniPacman map and its lookup tables."""
import numpy as np
import pytest

from envs.minipacman import ghosts
from envs.minipacman import maze as maze_lib

_DIRS = ((0, 1), (-1, 0), (0, -1), (1, 0))


def _free(rows):
  return {(r, c) for r, line in enumerate(rows) for c, ch in enumerate(line) if ch == "."}


def test_standard_map_shape_and_border():
  rows = maze_lib.STANDARD_MAP
  assert (maze_lib.HEIGHT, maze_lib.WIDTH) == (15, 19) == (len(rows), len(rows[0]))
  assert all(len(line) == 19 for line in rows)
  assert set(rows[0]) == set(rows[-1]) == {"#"}
  assert all(line[0] == line[-1] == "#" for line in rows)


def test_standard_map_is_symmetric_one_wide_without_dead_ends_and_connected():
  rows = maze_lib.STANDARD_MAP
  assert all(line == line[::-1] for line in rows)
  free = _free(rows)
  degrees = {cell: sum((cell[0] + dr, cell[1] + dc) in free for dr, dc in _DIRS) for cell in free}
  assert min(degrees.values()) >= 2  # No dead ends.
  assert sum(d >= 3 for d in degrees.values()) >= 16  # Enough junctions.
  for r, c in free:  # Corridors one cell wide: no open 2x2 block.
    assert not {(r + 1, c), (r, c + 1), (r + 1, c + 1)} <= free
  seen, stack = {min(free)}, [min(free)]
  while stack:
    r, c = stack.pop()
    for dr, dc in _DIRS:
      if (r + dr, c + dc) in free and (r + dr, c + dc) not in seen:
        seen.add((r + dr, c + dc))
        stack.append((r + dr, c + dc))
  assert seen == free


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


def test_ghost_options_never_reverse_on_standard_map():
  maze = maze_lib.build_maze()
  for cell in maze.free_cells:
    open_dirs = {d for d in range(1, 5) if maze.moves[cell * 5 + d] != cell}
    assert {o[0] for o in maze.ghost_options[cell * 5 + maze_lib.NO_HEADING]} == open_dirs
    for heading in range(1, 5):
      dirs = [o[0] for o in maze.ghost_options[cell * 5 + heading]]
      assert set(dirs) == open_dirs - {maze_lib.REVERSE[heading]}
      assert dirs == sorted(dirs)


def test_ghost_options_allow_reverse_only_out_of_a_dead_end():
  maze = maze_lib.build_maze(["###############",
                              "#.............#",
                              "#.###########.#",
                              "#.............#",
                              "#######.#######",
                              "#######.#######",
                              "###############"])
  corridor, dead_end = 4 * 15 + 7, 5 * 15 + 7
  assert [o[0] for o in maze.ghost_options[corridor * 5 + maze_lib.DOWN]] == [maze_lib.DOWN]
  assert [o[:2] for o in maze.ghost_options[dead_end * 5 + maze_lib.DOWN]] == [(maze_lib.UP, corridor)]


def test_spawn_cells_lie_outside_the_box():
  maze = maze_lib.build_maze()
  for cell in maze.free_cells:
    r, c = maze.row_of[cell], maze.col_of[cell]
    expected = [f for f in maze.free_cells
                if abs(maze.row_of[f] - r) > 5 or abs(maze.col_of[f] - c) > 5]
    assert list(maze.spawn_cells[cell]) == expected and expected


def test_palette_matches_spec_colours():
  spec = np.array([[0, 0, 0], [1, 1, 1], [0, 0, 1], [0, 1, 1], [0, 1, 0], [1, 0, 0], [1, 1, 0]]) * 255
  assert maze_lib.PALETTE.dtype == np.uint8 and maze_lib.PALETTE.shape == (7, 3)
  np.testing.assert_array_equal(maze_lib.PALETTE, spec)


@pytest.mark.parametrize("rows, message", [
    pytest.param([], "empty", id="empty"),
    pytest.param(["#####", "#..#", "#####"], "row 1 has 4", id="ragged"),
    pytest.param(["#####", "#.x.#", "#####"], "row 1 holds", id="bad_char"),
    pytest.param(["#####", "#....", "#####"], "border", id="no_border"),
    pytest.param(["#####", "#.#.#", "#####"], "free cells", id="too_small"),
    pytest.param(["#######", "#..#..#", "#######"], "unreachable", id="unreachable"),
    pytest.param(["######", "#....#", "######"], "spawn ghosts", id="no_spawn"),
])
def test_build_maze_rejects_bad_maps(rows, message):
  with pytest.raises(ValueError, match=message):
    maze_lib.build_maze(rows)


def test_choose_move_chases_flees_and_explores():
  # Options (direction, next cell, d_row, d_col): right, up, down.
  options = ((maze_lib.RIGHT, 11, 0, 1), (maze_lib.UP, 2, -1, 0), (maze_lib.DOWN, 20, 1, 0))
  draws = lambda *u: iter(u).__next__  # A fake uniform() returning `u` in order.
  # Towards Pacman (-1, 4): dot products right 4, up 1, down -1.
  assert ghosts.choose_move(options, -1, 4, False, draws(0.0))[0] == maze_lib.RIGHT
  assert ghosts.choose_move(options, -1, 4, False, draws(0.949))[0] == maze_lib.RIGHT
  assert ghosts.choose_move(options, -1, 4, True, draws(0.0))[0] == maze_lib.DOWN
  assert ghosts.choose_move(options, 0, 5, True, draws(0.0))[0] == maze_lib.UP  # Tie: first option.
  # The 5% branch: a second draw picks uniformly among the options.
  assert ghosts.choose_move(options, -1, 4, False, draws(0.96, 0.0))[0] == maze_lib.RIGHT
  assert ghosts.choose_move(options, -1, 4, False, draws(0.96, 0.5))[0] == maze_lib.UP
  assert ghosts.choose_move(options, -1, 4, True, draws(0.99, 0.99))[0] == maze_lib.DOWN
  assert ghosts.choose_move(options[:1], 5, 5, False, draws()) == options[0]  # No draw at all.
