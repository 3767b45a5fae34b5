"""The five MiniPacman tasks: one set of dynamics, different weights over the same five events.

A step's reward is `task_weights(task) . events` (paper Sec. 5), where `events` holds five float32
indicators in the order of `EVENT_NAMES`. The weights, what ends a level and Avoid's 128-step level
timer are those of DeepMind's released MiniPacman. `EVENT_NAMES` is the one list of event names: the
environment model (i2a/env_models/minipacman_model.py) and the data manifests use it.
"""
from typing import Optional

import numpy as np

TASKS = ("regular", "avoid", "hunt", "ambush", "rush")
EVENT_NAMES = ("step", "ate_food", "ate_power_pill", "ate_ghost", "killed_by_ghost")
NUM_EVENTS = len(EVENT_NAMES)
STEP, ATE_FOOD, ATE_PILL, ATE_GHOST, KILLED = range(NUM_EVENTS)

# The released game's reward table: weights of (step, food, power pill, ghost, killed by ghost).
_WEIGHTS = {
    "regular": (0.0, 1.0, 2.0, 5.0, 0.0),
    "avoid": (0.1, -0.1, -5.0, -10.0, -20.0),
    "hunt": (0.0, 0.0, 1.0, 10.0, -20.0),
    "ambush": (0.0, -0.1, 0.0, 10.0, -20.0),
    "rush": (0.0, -0.1, 10.0, 0.0, 0.0),
}

# What ends a level in the released game: the next level starts in the same episode.
CLEAR_ON_FOOD, CLEAR_ON_GHOSTS, CLEAR_ON_PILLS = "food", "ghosts", "pills"
_CLEAR_CONDITION = {
    "regular": CLEAR_ON_FOOD,  # All food eaten.
    "avoid": CLEAR_ON_FOOD,  # All food eaten, or the level timer below.
    "hunt": CLEAR_ON_GHOSTS,  # All ghosts eaten.
    "ambush": CLEAR_ON_GHOSTS,
    "rush": CLEAR_ON_PILLS,  # All power pills eaten.
}

# Avoid's level ends after 128 steps in the level (paper Sec. 5, and the released game); no other task
# has a level timer.
_LEVEL_TIMER = {"avoid": 128}

# A step's events packed into a small integer: bit k-1 set when event k (k >= 1) happened; `step` is
# always 1. Food and a pill can be eaten in one step (pills lie on food); ghost and killed exclude
# each other (a ghost is eaten only while powered, Pacman dies only while not).
CODE_FOOD, CODE_PILL, CODE_GHOST, CODE_KILLED = 1, 2, 4, 8
NUM_CODES = 16
CODE_FIRST = NUM_CODES  # Extra row of the tables: a FIRST step (no events, reward 0).


def _check_task(task: str) -> None:
  if task not in TASKS:
    raise ValueError(f"Unknown MiniPacman task {task!r}; expected one of {TASKS}.")


def task_weights(task: str) -> np.ndarray:
  """float32 [5], the reward weight of each event in `EVENT_NAMES` order for `task`."""
  _check_task(task)
  return np.array(_WEIGHTS[task], dtype=np.float32)


def clear_condition(task: str) -> str:
  """What clears a level in `task`: CLEAR_ON_FOOD, CLEAR_ON_GHOSTS or CLEAR_ON_PILLS."""
  _check_task(task)
  return _CLEAR_CONDITION[task]


def level_timer(task: str) -> Optional[int]:
  """Steps after which a level of `task` ends whatever else happened (128 for Avoid), or None."""
  _check_task(task)
  return _LEVEL_TIMER.get(task)


def event_table() -> np.ndarray:
  """float32 [NUM_CODES + 1, 5] (read-only): the event indicators of every event code.

  Row `code` decodes a packed step code; row CODE_FIRST is all zeros (the first step of an episode).
  """
  table = np.zeros((NUM_CODES + 1, NUM_EVENTS), dtype=np.float32)
  for code in range(NUM_CODES):
    table[code, STEP] = 1.0
    table[code, ATE_FOOD] = bool(code & CODE_FOOD)
    table[code, ATE_PILL] = bool(code & CODE_PILL)
    table[code, ATE_GHOST] = bool(code & CODE_GHOST)
    table[code, KILLED] = bool(code & CODE_KILLED)
  table.setflags(write=False)
  return table


def reward_table(task: str) -> np.ndarray:
  """float32 [NUM_CODES + 1] (read-only): `task_weights(task) . events` of every event code."""
  rewards = (event_table() @ task_weights(task)).astype(np.float32)
  rewards.setflags(write=False)
  return rewards
