"""What the networks need to know about each game: frame size, actions, palette, reward bins, events.

Kept apart from `envs/` so the library builds networks without stepping an environment; the palettes
and event weights are read from the environment packages so the two can never disagree. `Geometry` is
the one definition of the settings an agent and its environment must share (the game, MiniPacman's
task, Sokoban's room and sprite sizes): `AgentConfig` and the training system's `EnvConfig` both
expose theirs as a `Geometry`, validated here once, and a run refuses two that differ.
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
# The solving push's reward: the step that ends an episode by solving the level (paper App. D).
SOKOBAN_SOLVING_REWARD = SOKOBAN_REWARD_BINS[-1]


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


@dataclasses.dataclass(frozen=True)
class Geometry:
  """The settings that fix a game's frames and rewards, which an agent and its environment must share.

  Fields that do not apply to the game are None (Sokoban has no task; MiniPacman's maze is fixed), so
  two geometries are equal exactly when an agent built for one can play the other.

  Attributes:
    game: 'sokoban' or 'minipacman'.
    task: MiniPacman task (sets the event weights that turn predicted events into rewards).
    room_size: Sokoban grid side in cells, outer wall included (paper: 10).
    pixels_per_cell: Sokoban sprite side in pixels (paper: 8, so 80x80 frames).
  """
  game: str
  task: Optional[str] = "regular"
  room_size: Optional[int] = 10
  pixels_per_cell: Optional[int] = 8

  def __post_init__(self):
    if self.game not in GAMES:
      raise ValueError(f"Unknown game {self.game!r}; expected one of {GAMES}.")
    if self.game == "minipacman":
      if self.task not in MINIPACMAN_TASKS:
        raise ValueError(f"Unknown MiniPacman task {self.task!r}; expected one of {MINIPACMAN_TASKS}.")
      object.__setattr__(self, "room_size", None)
      object.__setattr__(self, "pixels_per_cell", None)
    else:
      if self.room_size is None or self.pixels_per_cell is None or self.room_size < 3 or self.pixels_per_cell < 1:
        raise ValueError(f"Sokoban needs room_size >= 3 and pixels_per_cell >= 1; got {self.room_size}, "
                         f"{self.pixels_per_cell}.")
      object.__setattr__(self, "task", None)

  def __str__(self) -> str:
    if self.game == "minipacman":
      return f"minipacman task {self.task!r}"
    return f"sokoban {self.room_size}x{self.room_size} rooms at {self.pixels_per_cell} px per cell"

  def fields(self, keep_none: bool = False) -> dict:
    """The settings that apply to the game, as keyword arguments of an AgentConfig (with `keep_none`,
    also those that do not, as None)."""
    return {k: v for k, v in dataclasses.asdict(self).items() if keep_none or v is not None}

  def spec(self) -> GameSpec:
    """The game's facts for building networks."""
    if self.game == "minipacman":
      return game_spec("minipacman", self.task)
    return game_spec("sokoban", room_size=self.room_size, pixels_per_cell=self.pixels_per_cell)


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
