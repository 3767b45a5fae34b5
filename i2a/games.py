"""What the networks need to know about each game: frame size, actions, palette, reward bins, events.

Kept apart from `envs/` so the library builds networks without stepping an environment; the palettes
and event weights are read from the environment packages so the two can never disagree.
"""
import dataclasses
from typing import Optional

import numpy as np

from envs.minipacman import tasks as minipacman_tasks
from envs.sokoban import config as sokoban_config

GAMES = ("sokoban", "minipacman")
MINIPACMAN_TASKS = minipacman_tasks.TASKS  # The environment's one list of tasks.
# Every per-step Sokoban reward under the environment's rules (paper App. D): a move (-0.1), a push off
# (-1.1) or onto (+0.9) a target, and the solving push (-0.1 + 1 + 10 = 10.9), read from the
# environment's reward constants. The environment model predicts a categorical over these (the paper
# does not say how its Sokoban model encodes rewards; WORKSPACE.md).
SOKOBAN_REWARD_BINS = tuple(round(r, 6) for r in (
    sokoban_config.STEP_REWARD + sokoban_config.BOX_OFF_REWARD,
    sokoban_config.STEP_REWARD,
    sokoban_config.STEP_REWARD + sokoban_config.BOX_ON_REWARD,
    sokoban_config.STEP_REWARD + sokoban_config.BOX_ON_REWARD + sokoban_config.SOLVE_REWARD))


@dataclasses.dataclass(frozen=True)
class GameSpec:
  """Static facts about a game, for building networks.

  Attributes:
    name: 'sokoban' or 'minipacman'.
    height, width: frame size in pixels.
    num_actions: size of the discrete action set.
    palette: uint8 [P, 3], every colour a frame can contain (for palette frame heads).
    reward_bins: Sokoban's reward values, or None.
    event_weights: MiniPacman's task weights over the 5 events (reward = w . events), or None.
  """
  name: str
  height: int
  width: int
  num_actions: int
  palette: np.ndarray
  reward_bins: Optional[tuple[float, ...]] = None
  event_weights: Optional[tuple[float, ...]] = None

  @property
  def num_reward_bins(self) -> int:
    """How many outputs the reward head has: reward bins, or the 5 MiniPacman events."""
    return len(self.reward_bins if self.reward_bins is not None else self.event_weights)


def game_spec(game: str, task: str = "regular", room_size: int = 10, pixels_per_cell: int = 8) -> GameSpec:
  """The GameSpec of `game` ('sokoban': a square room of `room_size` cells; 'minipacman': `task`)."""
  if game == "sokoban":
    from envs import sokoban  # pylint: disable=g-import-not-at-top
    size = room_size * pixels_per_cell
    return GameSpec("sokoban", size, size, sokoban.NUM_ACTIONS, np.asarray(sokoban.PALETTE, np.uint8),
                    reward_bins=SOKOBAN_REWARD_BINS)
  if game == "minipacman":
    if task not in MINIPACMAN_TASKS:
      raise ValueError(f"Unknown MiniPacman task {task!r}; expected one of {MINIPACMAN_TASKS}.")
    from envs import minipacman  # pylint: disable=g-import-not-at-top
    weights = tuple(float(w) for w in minipacman.task_weights(task))
    return GameSpec("minipacman", minipacman.HEIGHT, minipacman.WIDTH, minipacman.NUM_ACTIONS,
                    np.asarray(minipacman.PALETTE, np.uint8),
                    event_weights=weights)
  raise ValueError(f"Unknown game {game!r}; expected one of {GAMES}.")
