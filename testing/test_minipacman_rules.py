"""MiniPacman rewards, events, episode ends, level ends and Avoid's level timer on hand-set states.

The rules are the released game's (envs/minipacman/game.py). Positions are on the released map: row 1,
columns 6..12 and row 3, columns 6..12 are one-cell corridors.
"""
import dm_env
import numpy as np
import pytest

from envs.minipacman import env as env_lib
from envs.minipacman import game as game_lib
from envs.minipacman import maze as maze_lib
from envs.minipacman import tasks
from testing import minipacman_state

# The released game's reward table: (step, food, power pill, ghost eaten, killed by ghost).
RELEASED_WEIGHTS = {
    "regular": [0, 1, 2, 5, 0],
    "avoid": [0.1, -0.1, -5, -10, -20],
    "hunt": [0, 0, 1, 10, -20],
    "ambush": [0, -0.1, 0, 10, -20],
    "rush": [0, -0.1, 10, 0, 0],
}
PAC, NEXT = (3, 8), (3, 9)  # RIGHT moves Pacman from PAC to NEXT along the row-3 corridor.
FAR_FOOD, FAR_PILL, FAR_GHOST = (11, 1), (13, 16), (13, 10)
FREE = {(r, c) for r, line in enumerate(maze_lib.STANDARD_MAP) for c, ch in enumerate(line) if ch == "."}

# name: (state, action, events). Ghosts get speed 0 so only Pacman moves.
SCENARIOS = {
    "step": (dict(food=[FAR_FOOD], pills=[FAR_PILL], ghosts=[FAR_GHOST]), maze_lib.STAY, [1, 0, 0, 0, 0]),
    "food": (dict(food=[NEXT, FAR_FOOD], pills=[FAR_PILL], ghosts=[FAR_GHOST]), maze_lib.RIGHT,
             [1, 1, 0, 0, 0]),
    "pill": (dict(food=[FAR_FOOD], pills=[NEXT, FAR_PILL], ghosts=[FAR_GHOST]), maze_lib.RIGHT,
             [1, 0, 1, 0, 0]),
    "food_and_pill": (dict(food=[NEXT, FAR_FOOD], pills=[NEXT, FAR_PILL], ghosts=[FAR_GHOST]),
                      maze_lib.RIGHT, [1, 1, 1, 0, 0]),  # Pills lie on food: one step eats both.
    "ghost": (dict(food=[FAR_FOOD], pills=[FAR_PILL], ghosts=[NEXT, FAR_GHOST], power=10),
              maze_lib.RIGHT, [1, 0, 0, 1, 0]),
    "killed": (dict(food=[FAR_FOOD], pills=[FAR_PILL], ghosts=[NEXT, FAR_GHOST]), maze_lib.RIGHT,
               [1, 0, 0, 0, 1]),
    "killed_twice": (dict(food=[FAR_FOOD], pills=[FAR_PILL], ghosts=[NEXT, NEXT]), maze_lib.RIGHT,
                     [1, 0, 0, 0, 1]),  # Events are 0/1 indicators: one death, one death reward.
}


def make_env(task="regular", frame_cap=3000, **state):
  env = env_lib.MiniPacman(task=task, seed=0, frame_cap=frame_cap)
  env.reset()
  state.setdefault("speed", 0.0)
  minipacman_state.set_env_state(env, pacman=state.pop("pacman", PAC), **state)
  return env


def test_task_weights_and_timers_match_the_released_game():
  assert tasks.TASKS == ("regular", "avoid", "hunt", "ambush", "rush")
  assert tasks.EVENT_NAMES == ("step", "ate_food", "ate_power_pill", "ate_ghost", "killed_by_ghost")
  for task, weights in RELEASED_WEIGHTS.items():
    w = tasks.task_weights(task)
    assert w.dtype == np.float32 and w.shape == (5,)
    np.testing.assert_array_equal(w, np.float32(weights))
    assert tasks.level_timer(task) == (128 if task == "avoid" else None)
  with pytest.raises(ValueError, match="Unknown MiniPacman task 'chase'"):
    tasks.task_weights("chase")


@pytest.mark.parametrize("task", tasks.TASKS)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_events_and_reward(task, scenario):
  state, action, events = SCENARIOS[scenario]
  env = make_env(task, **state)
  ts = env.step(action)
  np.testing.assert_array_equal(ts.observation["events"], np.float32(events))
  assert ts.observation["events"].dtype == np.float32 and ts.reward.dtype == np.float32
  assert ts.reward == pytest.approx(float(np.dot(RELEASED_WEIGHTS[task], events)), abs=1e-6)
  if scenario.startswith("killed"):
    assert ts.step_type == dm_env.StepType.LAST and ts.discount == 0.0
  else:
    assert ts.step_type == dm_env.StepType.MID and ts.discount == 1.0


def test_two_pills_on_one_cell_are_eaten_one_per_step():
  env = make_env(food=[FAR_FOOD], pills=[NEXT, NEXT], ghosts=[FAR_GHOST])
  assert env.step(maze_lib.RIGHT).observation["events"][tasks.ATE_PILL] == 1.0
  assert env.game.pill_cells == [NEXT]
  ts = env.step(maze_lib.STAY)  # Staying on the cell eats the second one.
  assert ts.observation["events"][tasks.ATE_PILL] == 1.0 and env.game.pills_left == 0


def test_killed_after_the_ghost_moves():
  # (1, 9) is in the row-1 corridor: a ghost there heading left can only move onto Pacman at (1, 8).
  env = make_env(pacman=(1, 8), ghosts=[(1, 9, maze_lib.LEFT)], food=[FAR_FOOD], pills=[FAR_PILL],
                 speed=1.0)
  ts = env.step(maze_lib.STAY)
  assert ts.step_type == dm_env.StepType.LAST and ts.discount == 0.0
  assert ts.observation["events"][tasks.KILLED] == 1.0
  assert env.game.ghosts == [(1, 8)]


def test_death_ends_episode_and_next_step_starts_level_one():
  env = make_env(level=3, **SCENARIOS["killed"][0])
  assert env.step(maze_lib.RIGHT).step_type == dm_env.StepType.LAST
  ts = env.step(maze_lib.RIGHT)
  assert ts.step_type == dm_env.StepType.FIRST and ts.reward is None and ts.discount is None
  np.testing.assert_array_equal(ts.observation["events"], np.zeros(5, np.float32))
  assert env.game.level == 1 and len(env.game.ghosts) == 1


@pytest.mark.parametrize("task", tasks.TASKS)
def test_frame_cap_ends_the_episode_with_discount_zero(task):
  env = make_env(task, frame_cap=4, **SCENARIOS["step"][0])
  for _ in range(3):
    assert env.step(maze_lib.STAY).step_type == dm_env.StepType.MID
  ts = env.step(maze_lib.STAY)
  assert ts.step_type == dm_env.StepType.LAST and ts.discount == 0.0  # An end, not a truncation.
  assert ts.reward == pytest.approx(RELEASED_WEIGHTS[task][0])
  assert env.step(maze_lib.STAY).step_type == dm_env.StepType.FIRST


# What each scenario empties: the last food, the last pill, or the last ghost (eaten while powered).
CLEARING = {
    "food": dict(food=[NEXT], pills=[FAR_PILL], ghosts=[FAR_GHOST]),
    "pills": dict(food=[FAR_FOOD], pills=[NEXT], ghosts=[FAR_GHOST]),
    "ghosts": dict(food=[FAR_FOOD], pills=[FAR_PILL], ghosts=[NEXT], power=10),
}
CLEARED_BY = {"regular": "food", "avoid": "food", "hunt": "ghosts", "ambush": "ghosts", "rush": "pills"}


@pytest.mark.parametrize("task", tasks.TASKS)
@pytest.mark.parametrize("emptied", CLEARING)
def test_level_ends_only_on_the_task_condition(task, emptied):
  env = make_env(task, **CLEARING[emptied])
  ts = env.step(maze_lib.RIGHT)
  assert ts.step_type == dm_env.StepType.MID
  assert env.game.level == (2 if CLEARED_BY[task] == emptied else 1)


@pytest.mark.parametrize("task", tasks.TASKS)
@pytest.mark.parametrize("level", [1, 2, 4, 7])
def test_next_level_starts_at_once_with_food_everywhere_and_more_faster_ghosts(task, level):
  env = make_env(task, level=level, timer=50, **CLEARING[CLEARED_BY[task]])
  ts = env.step(maze_lib.RIGHT)
  game = env.game
  assert game.level == level + 1 and game.level_timer == 0
  assert len(game.ghosts) == 1 + level // 2 == game_lib.num_ghosts(level + 1)
  assert game.ghost_speed == pytest.approx(0.5 + 0.1 * level)  # Not capped at 1.
  assert game.power == 0 and game.pills_left == 2 and set(game.pill_cells) <= FREE
  # Food on every free cell, under the pills and under Pacman too.
  assert set(game.food_cells) == FREE and game.food_left == len(FREE) == 138
  pr, pc = game.pacman
  for (r, c), heading in zip(game.ghosts, game.ghost_headings):
    assert not (max(1, pr - 5) <= r <= pr + 4 and max(1, pc - 5) <= c <= pc + 4)
    assert heading in (maze_lib.RIGHT, maze_lib.UP, maze_lib.LEFT, maze_lib.DOWN)
  # The returned frame already shows the new level, Pacman on top.
  rgb = ts.observation["rgb"]
  assert tuple(rgb[game.pacman]) == (0, 255, 0)
  visible_food = FREE - set(game.ghosts) - set(game.pill_cells) - {game.pacman}
  assert (rgb == (0, 0, 255)).all(-1).sum() == len(visible_food)


def test_pacman_is_placed_at_random_on_each_new_level():
  places = set()
  for seed in range(30):
    env = env_lib.MiniPacman(task="rush", seed=seed)
    env.reset()
    minipacman_state.set_env_state(env, pacman=PAC, food=[FAR_FOOD], pills=[NEXT], ghosts=[FAR_GHOST], speed=0.0)
    env.step(maze_lib.RIGHT)
    assert env.game.level == 2
    places.add(env.game.pacman)
  assert len(places) >= 20  # 30 draws from 138 cells: at least 20 distinct unless not random.


@pytest.mark.parametrize("task", tasks.TASKS)
def test_avoid_level_ends_after_128_steps(task):
  env = make_env(task, timer=126, food=[FAR_FOOD], pills=[FAR_PILL], ghosts=[FAR_GHOST])
  env.step(maze_lib.STAY)
  assert env.game.level == 1 and env.game.level_timer == 127
  ts = env.step(maze_lib.RIGHT)  # The 128th step of the level.
  timed = task == "avoid"
  assert ts.step_type == dm_env.StepType.MID
  assert env.game.level == (2 if timed else 1)
  assert env.game.level_timer == (0 if timed else 128)
  # The step's frame still shows the old level (the next level starts after drawing).
  assert tuple(ts.observation["rgb"][NEXT]) == (0, 255, 0)
  assert tuple(ts.observation["rgb"][FAR_FOOD]) == (0, 0, 255)
  if timed:  # The next step plays and draws the new level.
    ts = env.step(maze_lib.STAY)
    assert tuple(ts.observation["rgb"][env.game.pacman]) == (0, 255, 0)
    assert (ts.observation["rgb"] == (0, 0, 255)).all(-1).sum() >= 138 - 5
    assert env.game.level_timer == 1


def test_level_timer_restarts_when_food_ends_the_level():
  env = make_env("avoid", timer=100, food=[NEXT], pills=[FAR_PILL], ghosts=[FAR_GHOST])
  env.step(maze_lib.RIGHT)
  assert env.game.level == 2 and env.game.level_timer == 0
