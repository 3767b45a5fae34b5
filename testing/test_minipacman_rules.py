"""MiniPacman rewards, events, episode ends and level clearing on hand-built states (spec Sec. 4.2)."""
import dm_env
import numpy as np
import pytest

from envs.minipacman import env as env_lib
from envs.minipacman import game as game_lib
from envs.minipacman import maze as maze_lib
from envs.minipacman import tasks

# Spec 4.2 reward table: (step, food, power pill, ghost, killed by ghost).
SPEC_WEIGHTS = {
    "regular": [0, 1, 2, 5, 0],
    "avoid": [0.1, -0.1, -5, -10, -20],
    "hunt": [0, 0, 1, 10, -20],
    "ambush": [0, -0.1, 0, 10, -20],
    "rush": [0, -0.1, 10, 0, 0],
}
PAC, NEXT = (3, 5), (3, 6)  # Row 3 is one open corridor; RIGHT moves Pacman from PAC to NEXT.
FAR_FOOD, FAR_PILL, FAR_GHOST = (11, 1), (13, 14), (13, 16)
NUM_FREE = len(maze_lib.build_maze().free_cells)

# name: (state, action, events). Ghosts get speed 0 so only Pacman moves.
SCENARIOS = {
    "step": (dict(food=[FAR_FOOD], pills=[FAR_PILL], ghosts=[FAR_GHOST]), maze_lib.STAY, [1, 0, 0, 0, 0]),
    "food": (dict(food=[NEXT, FAR_FOOD], pills=[FAR_PILL], ghosts=[FAR_GHOST]), maze_lib.RIGHT,
             [1, 1, 0, 0, 0]),
    "pill": (dict(food=[FAR_FOOD], pills=[NEXT, FAR_PILL], ghosts=[FAR_GHOST]), maze_lib.RIGHT,
             [1, 0, 1, 0, 0]),
    "ghost": (dict(food=[FAR_FOOD], pills=[FAR_PILL], ghosts=[NEXT, FAR_GHOST], power=10),
              maze_lib.RIGHT, [1, 0, 0, 1, 0]),
    "killed": (dict(food=[FAR_FOOD], pills=[FAR_PILL], ghosts=[NEXT, FAR_GHOST]), maze_lib.RIGHT,
               [1, 0, 0, 0, 1]),
}


def make_env(task="regular", frame_cap=3000, **state):
  env = env_lib.MiniPacman(task=task, seed=0, frame_cap=frame_cap)
  env.reset()
  state.setdefault("speed", 0.0)
  env._set_state_for_testing(pacman=state.pop("pacman", PAC), **state)
  return env


def test_task_weights_match_spec():
  assert tasks.TASKS == ("regular", "avoid", "hunt", "ambush", "rush")
  assert tasks.EVENT_NAMES == ("step", "ate_food", "ate_power_pill", "ate_ghost", "killed_by_ghost")
  for task, weights in SPEC_WEIGHTS.items():
    w = tasks.task_weights(task)
    assert w.dtype == np.float32 and w.shape == (5,)
    np.testing.assert_array_equal(w, np.float32(weights))
  with pytest.raises(ValueError, match="Unknown MiniPacman task 'chase'"):
    tasks.task_weights("chase")


@pytest.mark.parametrize("task", tasks.TASKS)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_events_and_reward(task, scenario):
  state, action, events = SCENARIOS[scenario]
  env = make_env(task, **state)
  ts = env.step(action)
  np.testing.assert_array_equal(ts.observation["events"], np.float32(events))
  assert ts.observation["events"].dtype == np.float32
  assert ts.reward.dtype == np.float32
  assert ts.reward == pytest.approx(float(np.dot(SPEC_WEIGHTS[task], events)), abs=1e-6)
  if scenario == "killed":
    assert ts.step_type == dm_env.StepType.LAST and ts.discount == 0.0
  else:
    assert ts.step_type == dm_env.StepType.MID and ts.discount == 1.0


def test_killed_after_the_ghost_moves():
  # (1, 2)-(1, 3) is a corridor: a ghost at (1, 3) heading left can only move onto Pacman.
  env = make_env(pacman=(1, 2), ghosts=[(1, 3, maze_lib.LEFT)], food=[FAR_FOOD], pills=[FAR_PILL],
                 speed=1.0)
  ts = env.step(maze_lib.STAY)
  assert ts.step_type == dm_env.StepType.LAST and ts.discount == 0.0
  assert ts.observation["events"][tasks.KILLED] == 1.0
  assert env.game.ghosts == [(1, 2)]


def test_eaten_ghost_leaves_and_at_most_one_per_step():
  env = make_env(ghosts=[NEXT, NEXT, FAR_GHOST], food=[FAR_FOOD], pills=[FAR_PILL], power=10)
  ts = env.step(maze_lib.RIGHT)
  assert ts.observation["events"][tasks.ATE_GHOST] == 1.0
  assert sorted(env.game.ghosts) == sorted([NEXT, FAR_GHOST])  # Only one of the two was eaten.
  ts = env.step(maze_lib.STAY)  # The other is eaten by the before-move check of the next step.
  assert ts.observation["events"][tasks.ATE_GHOST] == 1.0
  assert env.game.ghosts == [FAR_GHOST]
  assert ts.step_type == dm_env.StepType.MID


def test_death_ends_episode_and_next_step_starts_level_one():
  env = make_env(level=3, **SCENARIOS["killed"][0])
  assert env.step(maze_lib.RIGHT).step_type == dm_env.StepType.LAST
  ts = env.step(maze_lib.RIGHT)
  assert ts.step_type == dm_env.StepType.FIRST and ts.reward is None and ts.discount is None
  np.testing.assert_array_equal(ts.observation["events"], np.zeros(5, np.float32))
  assert env.game.level == 1 and len(env.game.ghosts) == 1


def test_frame_cap_ends_with_discount_one():
  env = make_env(frame_cap=4, **SCENARIOS["step"][0])
  for _ in range(3):
    assert env.step(maze_lib.STAY).step_type == dm_env.StepType.MID
  ts = env.step(maze_lib.STAY)
  assert ts.step_type == dm_env.StepType.LAST and ts.discount == 1.0
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
def test_level_clears_only_on_the_task_condition(task, emptied):
  env = make_env(task, **CLEARING[emptied])
  ts = env.step(maze_lib.RIGHT)
  assert ts.step_type == dm_env.StepType.MID
  assert env.game.level == (2 if CLEARED_BY[task] == emptied else 1)


@pytest.mark.parametrize("task", tasks.TASKS)
@pytest.mark.parametrize("level", [1, 2, 4, 7])
def test_cleared_level_starts_next_with_more_and_faster_ghosts(task, level):
  env = make_env(task, level=level, **CLEARING[CLEARED_BY[task]])
  ts = env.step(maze_lib.RIGHT)
  game = env.game
  assert game.level == level + 1
  assert len(game.ghosts) == 1 + level // 2 == game_lib.num_ghosts(level + 1)
  assert game.ghost_speed == pytest.approx(min(1.0, 0.5 + 0.1 * level))
  assert game.power == 0 and game.pills_left == 2 and len(game.pill_cells) == 2
  assert game.food_left == len(game.food_cells) == NUM_FREE - 3
  assert game.pacman not in game.food_cells + game.pill_cells
  for r, c in game.ghosts:
    assert abs(r - game.pacman[0]) > 5 or abs(c - game.pacman[1]) > 5
  # The returned frame already shows the new level.
  assert tuple(ts.observation["rgb"][game.pacman]) == (0, 255, 0)
  visible_food = set(game.food_cells) - set(game.ghosts)
  assert (ts.observation["rgb"] == (0, 0, 255)).all(-1).sum() == len(visible_food)
