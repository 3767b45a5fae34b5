"""MiniPacman power pills, ghost behaviour (statistical, seeded), level starts and rendering."""
import numpy as np
import pytest

from envs.minipacman import env as env_lib
from envs.minipacman import maze as maze_lib
from envs.minipacman import tasks

# Spec 4.2 colours in [0, 1].
SPEC_COLOURS = {"empty": (0, 0, 0), "wall": (1, 1, 1), "food": (0, 0, 1), "pill": (0, 1, 1),
                "pacman": (0, 1, 0), "ghost": (1, 0, 0)}
WALLS = np.array([[ch == "#" for ch in line] for line in maze_lib.STANDARD_MAP])
FAR_FOOD, FAR_PILL = (11, 1), (13, 14)


def reference_frame(game) -> np.ndarray:
  """uint8 [15, 19, 3] drawn from scratch from the game state with the spec colours."""
  frame = np.zeros((15, 19, 3))
  frame[WALLS] = SPEC_COLOURS["wall"]
  for cell in game.food_cells:
    frame[cell] = SPEC_COLOURS["food"]
  for cell in game.pill_cells:
    frame[cell] = SPEC_COLOURS["pill"]
  frame[game.pacman] = SPEC_COLOURS["pacman"]
  for cell in game.ghosts:  # Edible ghosts: (1, e, 0), e = remaining power / 20.
    frame[cell] = (1, game.power / 20, 0)
  return np.floor(frame * 255 + 0.5).astype(np.uint8)


def make_env(task="regular", seed=0, **state):
  env = env_lib.MiniPacman(task=task, seed=seed)
  env.reset()
  if state:
    env._set_state_for_testing(**state)
  return env


def test_set_state_draws_every_object_in_its_spec_colour():
  env = env_lib.MiniPacman(seed=0)
  env.reset()
  frame = env._set_state_for_testing(pacman=(3, 5), ghosts=[(7, 9)], food=[(3, 6), (1, 1)],
                                     pills=[(13, 14)])
  expected = np.zeros((15, 19, 3), np.uint8)
  expected[WALLS] = 255
  expected[3, 6] = expected[1, 1] = (0, 0, 255)
  expected[13, 14] = (0, 255, 255)
  expected[3, 5] = (0, 255, 0)
  expected[7, 9] = (255, 0, 0)
  np.testing.assert_array_equal(frame, expected)


def test_eating_a_pill_powers_pacman_for_twenty_steps_with_a_fading_ghost():
  env = make_env(pacman=(3, 5), ghosts=[(13, 16)], food=[FAR_FOOD], pills=[(3, 6), FAR_PILL], speed=0.0)
  ts = env.step(maze_lib.RIGHT)
  assert env.game.power == 20
  np.testing.assert_array_equal(ts.observation["rgb"][13, 16], (255, 255, 0))  # Fully edible: yellow.
  for remaining in range(19, -1, -1):
    ts = env.step(maze_lib.STAY)
    assert env.game.power == remaining
    np.testing.assert_array_equal(ts.observation["rgb"][13, 16],
                                  (255, np.floor(255 * remaining / 20 + 0.5), 0))
  np.testing.assert_array_equal(ts.observation["rgb"][13, 16], (255, 0, 0))


@pytest.mark.parametrize("power", [1, 2, 7, 11, 20])
def test_fading_ghost_colour(power):
  env = make_env(pacman=(3, 5), ghosts=[(13, 16)], food=[FAR_FOOD], pills=[FAR_PILL], power=power,
                 speed=0.0)
  ts = env.step(maze_lib.STAY)  # Power runs down by one first.
  green = np.floor(255 * (power - 1) / 20 + 0.5)
  np.testing.assert_array_equal(ts.observation["rgb"][13, 16], (255, green, 0))
  np.testing.assert_array_equal(ts.observation["rgb"], reference_frame(env.game))


def _moves_of_ghost(power, trials=1500):
  """Where a ghost at junction (3, 4), heading right, goes with Pacman at (3, 9)."""
  env = make_env()
  counts = {}
  for _ in range(trials):
    env._set_state_for_testing(pacman=(3, 9), ghosts=[(3, 4, maze_lib.RIGHT)], power=power, speed=1.0)
    env.step(maze_lib.STAY)
    counts[env.game.ghosts[0]] = counts.get(env.game.ghosts[0], 0) + 1
  return {cell: n / trials for cell, n in counts.items()}


def test_ghost_chases_normally_and_flees_while_powered_at_half_speed():
  # From (3, 4) heading right the options are right (3, 5), up (2, 4), down (4, 4); never back left.
  greedy = 0.95 + 0.05 / 3
  chase = _moves_of_ghost(power=0)
  assert set(chase) <= {(3, 5), (2, 4), (4, 4)}
  assert chase[(3, 5)] == pytest.approx(greedy, abs=0.025)  # Max dot product: towards Pacman.
  flee = _moves_of_ghost(power=20)
  assert set(flee) <= {(3, 4), (3, 5), (2, 4), (4, 4)}
  assert flee[(3, 4)] == pytest.approx(0.5, abs=0.05)  # Speed 1 halved while powered.
  # Flee: min dot product; up and down tie at 0 and the first (up) wins.
  assert flee[(2, 4)] == pytest.approx(0.5 * greedy, abs=0.05)
  assert flee.get((3, 5), 0.0) < 0.03


@pytest.mark.parametrize("power, expected", [(0, 0.6), (20, 0.3)], ids=["normal", "powered"])
def test_ghost_speed_on_level_two_is_halved_while_powered(power, expected):
  env = make_env()
  moved, trials = 0, 2000
  for _ in range(trials):
    # (7, 9) is a corridor cell: heading right, the only move is to (7, 10).
    env._set_state_for_testing(pacman=(1, 1), ghosts=[(7, 9, maze_lib.RIGHT)], power=power, level=2)
    env.step(maze_lib.STAY)
    moved += env.game.ghosts == [(7, 10)]
  assert moved / trials == pytest.approx(expected, abs=0.04)


def test_level_start_layout():
  pacmen = set()
  for seed in range(40):
    env = env_lib.MiniPacman(seed=seed)
    ts = env.reset()
    game = env.game
    pacmen.add(game.pacman)
    assert game.level == 1 and game.power == 0 and len(game.ghosts) == 1
    assert not WALLS[game.pacman] and len(set(game.pill_cells)) == 2
    assert game.pacman not in game.pill_cells
    assert sorted(game.food_cells + game.pill_cells + [game.pacman]) == sorted(
        zip(*np.nonzero(~WALLS)))
    (gr, gc), = game.ghosts
    assert abs(gr - game.pacman[0]) > 5 or abs(gc - game.pacman[1]) > 5
    np.testing.assert_array_equal(ts.observation["rgb"], reference_frame(game))
  assert len(pacmen) > 20


@pytest.mark.parametrize("task", ["regular", "rush", "hunt"])
def test_incremental_rendering_matches_a_full_redraw(task):
  env = env_lib.MiniPacman(task=task, seed=1, frame_cap=400)
  rng = np.random.default_rng(2)
  ts = env.reset()
  saw_power = saw_death = False
  for _ in range(1500):
    # Death frames too: the game and the reference both draw ghosts over Pacman.
    np.testing.assert_array_equal(ts.observation["rgb"], reference_frame(env.game))
    saw_power |= env.game.power > 0
    saw_death |= ts.discount == 0.0
    ts = env.step(int(rng.integers(5)))
  assert saw_power and saw_death


def test_events_observation_is_zero_on_first_step():
  ts = env_lib.MiniPacman(seed=0).reset()
  np.testing.assert_array_equal(ts.observation["events"], np.zeros(tasks.NUM_EVENTS, np.float32))
