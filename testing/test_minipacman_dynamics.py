"""MiniPacman step order, ghost rules, level start and drawing on hand-set states and seeded play.

The rules are the released game's (envs/minipacman/game.py). On the released map, row 1 columns 6..12
and row 3 columns 6..12 are corridors, (1, 5) is a corner (open right and down) and (3, 5) a junction
open in all four directions.
"""
import numpy as np
import pytest

from envs.minipacman import env as env_lib
from envs.minipacman import maze as maze_lib
from envs.minipacman import tasks
from testing import minipacman_state

R, U, L, D = maze_lib.RIGHT, maze_lib.UP, maze_lib.LEFT, maze_lib.DOWN
WALLS = np.array([[ch == "#" for ch in line] for line in maze_lib.STANDARD_MAP])
PAC, NEXT = (3, 8), (3, 9)
FAR_FOOD, FAR_PILL = (11, 1), (13, 16)


def reference_frame(game) -> np.ndarray:
  """uint8 [15, 19, 3] painted from the game state back to front: walls, food, pills, ghosts, Pacman."""
  frame = np.zeros((15, 19, 3))
  frame[WALLS] = (1, 1, 1)
  for cell in game.food_cells:
    frame[cell] = (0, 0, 1)
  for cell in game.pill_cells:
    frame[cell] = (0, 1, 1)
  for cell in game.ghosts:  # An edible ghost is (1, power / 20, 0).
    frame[cell] = (1, game.power / 20, 0)
  frame[game.pacman] = (0, 1, 0)
  return np.floor(frame * 255 + 0.5).astype(np.uint8)


def make_env(task="regular", seed=0, **state):
  env = env_lib.MiniPacman(task=task, seed=seed)
  env.reset()
  if state:
    minipacman_state.set_env_state(env, **state)
  return env


def test_drawing_order_pacman_ghosts_pills_food_walls():
  env = make_env()
  frame = minipacman_state.set_env_state(env, pacman=PAC, ghosts=[PAC, (3, 10)],
                                         food=[PAC, (3, 10), (3, 11), (1, 1)], pills=[(3, 10), (3, 11)])
  expected = np.zeros((15, 19, 3), np.uint8)
  expected[WALLS] = 255
  expected[1, 1] = (0, 0, 255)  # Food.
  expected[3, 11] = (0, 255, 255)  # A pill over food.
  expected[3, 10] = (255, 0, 0)  # A ghost over a pill over food.
  expected[PAC] = (0, 255, 0)  # Pacman over a ghost over food.
  np.testing.assert_array_equal(frame, expected)


# The green channel 255 * power / 20, rounded half up: 25.5 -> 26, 127.5 -> 128, 229.5 -> 230.
EDIBLE_GREEN = {20: 255, 19: 242, 18: 230, 11: 140, 10: 128, 2: 26, 1: 13, 0: 0}


def test_eating_a_pill_powers_pacman_for_twenty_steps_with_a_fading_ghost():
  env = make_env(pacman=PAC, ghosts=[(13, 10)], food=[FAR_FOOD], pills=[NEXT, FAR_PILL], speed=0.0)
  ts = env.step(R)
  assert env.game.power == 20
  np.testing.assert_array_equal(ts.observation["rgb"][13, 10], (255, 255, 0))  # Fully edible: yellow.
  for remaining in range(19, -1, -1):
    ts = env.step(maze_lib.STAY)
    assert env.game.power == remaining
    green = EDIBLE_GREEN.get(remaining, np.floor(255 * remaining / 20 + 0.5))
    np.testing.assert_array_equal(ts.observation["rgb"][13, 10], (255, green, 0))
    np.testing.assert_array_equal(ts.observation["rgb"], reference_frame(env.game))


@pytest.mark.parametrize("power, event", [(1, tasks.KILLED), (2, tasks.ATE_GHOST)])
def test_power_is_counted_down_before_pacman_moves(power, event):
  env = make_env(pacman=PAC, ghosts=[NEXT], food=[FAR_FOOD], pills=[FAR_PILL], power=power, speed=0.0)
  ts = env.step(R)  # Power 1 runs out before Pacman reaches the ghost; power 2 does not.
  np.testing.assert_array_equal(np.nonzero(ts.observation["events"])[0], [tasks.STEP, event])
  assert env.game.power == power - 1


@pytest.mark.parametrize("first", [NEXT, (3, 10, L)], ids=["waiting", "moving_in"])
def test_at_most_one_ghost_eaten_and_no_later_ghost_moves(first):
  # Speed 2 halved by the power: every ghost whose turn comes moves.
  env = make_env(pacman=PAC, ghosts=[first, NEXT, (1, 8, R)], food=[FAR_FOOD], pills=[FAR_PILL],
                 power=10, speed=2.0)
  ts = env.step(R)
  assert ts.observation["events"][tasks.ATE_GHOST] == 1.0
  assert env.game.ghosts == [NEXT, (1, 8)]  # The second waits on Pacman's cell; the third did not move.
  ts = env.step(maze_lib.STAY)  # The one left on Pacman is eaten next step, before any move.
  assert ts.observation["events"][tasks.ATE_GHOST] == 1.0
  assert env.game.ghosts == [(1, 8)]


def test_a_death_does_not_stop_the_other_ghosts():
  env = make_env(pacman=PAC, ghosts=[NEXT, (1, 8, R)], food=[FAR_FOOD], pills=[FAR_PILL], speed=1.0)
  ts = env.step(R)
  assert ts.observation["events"][tasks.KILLED] == 1.0 and ts.last() and ts.discount == 0.0
  assert env.game.ghosts == [NEXT, (1, 9)]
  np.testing.assert_array_equal(ts.observation["rgb"][NEXT], (0, 255, 0))  # Pacman over the ghost.


@pytest.mark.parametrize("cell, heading, expected", [
    ((1, 8), R, ((1, 9), R)), ((1, 8), L, ((1, 7), L)),  # A corridor: keep going.
    ((1, 5), U, ((1, 6), R)), ((1, 5), L, ((2, 5), D)),  # A corner: the way that is not back.
])
@pytest.mark.parametrize("power", [0, 10])
def test_ghost_follows_corridors_and_corners(cell, heading, expected, power):
  for trial in range(20):  # Forced moves draw no random choice: always the same.
    env = make_env(seed=trial, pacman=(13, 10), ghosts=[cell + (heading,)], power=power, speed=2.0)
    env.step(maze_lib.STAY)
    assert (env.game.ghosts[0], env.game.ghost_headings[0]) == expected


def _junction_moves(pacman, power, trials):
  """Where a ghost at junction (3, 5) heading right goes; speed 2 so that it always moves."""
  env = make_env(seed=3)
  counts = {}
  for _ in range(trials):
    minipacman_state.set_env_state(env, pacman=pacman, ghosts=[(3, 5, R)], power=power, speed=2.0)
    env.step(maze_lib.STAY)
    counts[env.game.ghosts[0]] = counts.get(env.game.ghosts[0], 0) + 1
  return {cell: n / trials for cell, n in counts.items()}


def test_chasing_ghost_never_reverses_and_moves_at_random_five_percent():
  # Pacman straight behind: left is excluded; right, up, down score -4, 0, 0: greedy is up (first tie).
  moves = _junction_moves(pacman=(3, 1), power=0, trials=4000)
  assert set(moves) <= {(3, 6), (2, 5), (4, 5)}  # Never back to (3, 4).
  random_share = 0.05 / 3  # 5% random among the 3 moves.
  assert moves[(2, 5)] == pytest.approx(0.95 + random_share, abs=0.015)  # sd 0.003.
  assert moves[(3, 6)] == pytest.approx(random_share, abs=0.01)  # sd 0.002.
  assert moves[(4, 5)] == pytest.approx(random_share, abs=0.01)


@pytest.mark.parametrize("pacman, expected", [((1, 5), (4, 5)), ((3, 9), (2, 5)), ((7, 5), (2, 5))],
                         ids=["away_from_above", "tie_first", "away_from_below"])
def test_fleeing_ghost_takes_the_lowest_score_and_never_moves_at_random(pacman, expected):
  assert _junction_moves(pacman, power=10, trials=400) == {expected: 1.0}


@pytest.mark.parametrize("level, power, expected", [(2, 0, 0.6), (2, 10, 0.3), (8, 0, 1.0), (8, 10, 0.6)])
def test_ghost_speed_by_level_halved_while_powered(level, power, expected):
  env = make_env()
  moved, trials = 0, 2000
  for _ in range(trials):
    minipacman_state.set_env_state(env, pacman=(13, 10), ghosts=[(1, 8, R)], power=power, level=level)
    env.step(maze_lib.STAY)
    moved += env.game.ghosts == [(1, 9)]
  assert moved / trials == pytest.approx(expected, abs=0.05)  # sd <= 0.011.


def test_level_start_layout():
  pacmen, headings = set(), set()
  free = set(zip(*np.nonzero(~WALLS)))
  for seed in range(60):
    env = env_lib.MiniPacman(seed=seed)
    ts = env.reset()
    game = env.game
    pacmen.add(game.pacman)
    assert game.level == 1 and game.power == 0 and game.level_timer == 0 and len(game.ghosts) == 1
    assert set(game.food_cells) == free and game.food_left == 138  # Under pills and Pacman too.
    assert len(game.pill_cells) == 2 and set(game.pill_cells) <= free
    (gr, gc), = game.ghosts
    pr, pc = game.pacman
    assert not (max(1, pr - 5) <= gr <= pr + 4 and max(1, pc - 5) <= gc <= pc + 4)
    headings.add(game.ghost_headings[0])
    np.testing.assert_array_equal(ts.observation["rgb"], reference_frame(game))
    ts = env.step(maze_lib.STAY)  # Pacman's start cell has food: staying eats it.
    assert ts.observation["events"][tasks.ATE_FOOD] == 1.0 and game.food_left == 137
  assert len(pacmen) > 30 and headings == {R, U, L, D}


@pytest.mark.parametrize("task", ["regular", "rush", "hunt"])
def test_incremental_rendering_matches_a_full_redraw(task):
  env = env_lib.MiniPacman(task=task, seed=1, frame_cap=400)
  rng = np.random.default_rng(2)
  ts = env.reset()
  saw_power = saw_death = False
  for _ in range(1500):
    np.testing.assert_array_equal(ts.observation["rgb"], reference_frame(env.game))
    saw_power |= env.game.power > 0
    saw_death |= ts.last() and ts.observation["events"][tasks.KILLED] == 1.0
    ts = env.step(int(rng.integers(5)))
  assert saw_power and saw_death


def test_events_observation_is_zero_on_first_step():
  ts = env_lib.MiniPacman(seed=0).reset()
  np.testing.assert_array_equal(ts.observation["events"], np.zeros(tasks.NUM_EVENTS, np.float32))
