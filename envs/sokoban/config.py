"""What the single and the batched Sokoban share: the typed config, level checks, level drawing, rewards.

Rewards (I2A paper App. D): -0.1 every step, +1 for pushing a box onto a target, -1 for
pushing a box off a target, +10 when every box is on a target (the episode then ends). The terms add up,
so the solving step earns -0.1 + 1 + 10 = 10.9: we follow the sum convention of the most-used public
implementation (gym-sokoban); the paper appendix is unconfirmed on this point (WORKSPACE.md).
"""
import dataclasses
from typing import Optional, Protocol, Sequence, Union

import numpy as np

from envs.sokoban import level as level_lib

OBSERVATION_KINDS = ("rgb", "symbolic", "both")
ACTION_NAMES = ("noop", "up", "down", "left", "right")  # Paper App. D: 5 actions (no-op and 4 moves).
NUM_ACTIONS = len(ACTION_NAMES)
# (row, column) step of each action.
ACTION_MOVES = ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1))

STEP_REWARD = -0.1  # App. D.
BOX_ON_REWARD = 1.0  # App. D.
BOX_OFF_REWARD = -1.0  # App. D.
SOLVE_REWARD = 10.0  # App. D.


def reward_table() -> np.ndarray:
  """float32 [3, 2]: the reward of a step indexed by [boxes-on-target change + 1, solved]."""
  table = np.empty((3, 2), np.float64)
  for change, push_term in ((-1, BOX_OFF_REWARD), (0, 0.0), (1, BOX_ON_REWARD)):
    for solved in (0, 1):
      table[change + 1, solved] = STEP_REWARD + push_term + SOLVE_REWARD * solved
  return table.astype(np.float32)


def validate_levels(levels: Union[np.ndarray, Sequence[np.ndarray]], height: int, width: int,
                    num_boxes: int, source: str = "levels") -> np.ndarray:
  """Checks levels and stacks them.

  Args:
    levels: a sequence of uint8 [height, width] level arrays, or one array [L, height, width].
    height, width: the level size every level must have.
    num_boxes: the number of boxes (and targets) every level must have.
    source: what to call the levels in error messages.

  Returns:
    uint8 [L, height, width], read-only.

  Raises:
    ValueError: naming the first bad level and what is wrong with it.
  """
  if len(levels) == 0:  # pylint: disable=g-explicit-length-test
    raise ValueError(f"{source} is empty; give at least one level or None for the generator")
  if not (isinstance(levels, np.ndarray) and levels.shape[1:] == (height, width)):
    for i, lvl in enumerate(levels):
      shape = np.shape(lvl)
      if shape != (height, width):
        raise ValueError(f"{source}[{i}] has shape {shape}, expected (height, width) = {(height, width)}")
  stacked = np.asarray(levels)
  if not np.issubdtype(stacked.dtype, np.integer):
    raise ValueError(f"{source} must hold integer cell codes, got dtype {stacked.dtype}")
  bad = np.argwhere((stacked < 0) | (stacked >= level_lib.NUM_CELL_TYPES))
  if len(bad):
    i = int(bad[0, 0])
    raise ValueError(f"{source}[{i}] holds cell code {int(stacked[tuple(bad[0])])} at {tuple(bad[0, 1:])}; "
                     f"codes are 0..{level_lib.NUM_CELL_TYPES - 1}")
  stacked = stacked.astype(np.uint8)
  counts = np.stack([(stacked == code).sum(axis=(1, 2)) for code in range(level_lib.NUM_CELL_TYPES)],
                    axis=1)  # [L, NUM_CELL_TYPES]
  players = counts[:, level_lib.PLAYER] + counts[:, level_lib.PLAYER_ON_TARGET]
  boxes = counts[:, level_lib.BOX] + counts[:, level_lib.BOX_ON_TARGET]
  targets = (counts[:, level_lib.TARGET] + counts[:, level_lib.BOX_ON_TARGET]
             + counts[:, level_lib.PLAYER_ON_TARGET])
  checks = ((players != 1, "players", players, "1"),
            (boxes != num_boxes, "boxes", boxes, f"num_boxes={num_boxes}"),
            (targets != num_boxes, "targets", targets, f"num_boxes={num_boxes}"))
  for wrong, what, count, expected in checks:
    if wrong.any():
      i = int(np.argmax(wrong))
      raise ValueError(f"{source}[{i}] has {int(count[i])} {what}, expected {expected}:\n"
                       f"{level_lib.to_text(stacked[i])}")
  solved = counts[:, level_lib.BOX] == 0
  if solved.any():
    i = int(np.argmax(solved))
    raise ValueError(f"{source}[{i}] is already solved (every box is on a target)")
  stacked.setflags(write=False)
  return stacked


@dataclasses.dataclass(frozen=True, eq=False)
class SokobanConfig:
  """Sokoban settings shared by `Sokoban` and `BatchedSokoban`.

  Attributes:
    width, height: grid size in cells (10x10 in the paper, Sec. 4).
    num_boxes: boxes (and targets) per level (4 in training, 1-7 in Table 2).
    max_steps: steps before a time-limit end (discount 1); 120 (paper App. D).
    observation: 'rgb', 'symbolic' or 'both'.
    pixels_per_cell: sprite side in pixels (8 gives the paper's 80x80 frames).
    levels: None to generate a new level each episode, else the levels to draw from; stored after
      validation as uint8 [L, height, width].
  """
  width: int = 10
  height: int = 10
  num_boxes: int = 4
  max_steps: int = 120
  observation: str = "rgb"
  pixels_per_cell: int = 8
  levels: Optional[Union[np.ndarray, Sequence[np.ndarray]]] = None

  def __post_init__(self):
    for name in ("width", "height", "num_boxes", "max_steps", "pixels_per_cell"):
      value = getattr(self, name)
      if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an int, got {value!r}")
    if self.width < 3 or self.height < 3:
      raise ValueError(f"width and height must be >= 3, got width={self.width}, height={self.height}")
    if self.num_boxes < 1:
      raise ValueError(f"num_boxes must be >= 1, got {self.num_boxes}")
    if self.num_boxes * 2 + 1 > self.width * self.height:
      raise ValueError(f"num_boxes={self.num_boxes} does not fit in a {self.height}x{self.width} level")
    if self.max_steps < 1:
      raise ValueError(f"max_steps must be >= 1, got {self.max_steps}")
    if self.pixels_per_cell < 1:
      raise ValueError(f"pixels_per_cell must be >= 1, got {self.pixels_per_cell}")
    if self.observation not in OBSERVATION_KINDS:
      raise ValueError(f"observation must be one of {OBSERVATION_KINDS}, got {self.observation!r}")
    if self.levels is not None:
      object.__setattr__(self, "levels", validate_levels(self.levels, self.height, self.width,
                                                         self.num_boxes))
    else:
      check_generated(self.width, self.height, self.num_boxes)

  @property
  def wants_rgb(self) -> bool:
    return self.observation in ("rgb", "both")

  @property
  def wants_symbolic(self) -> bool:
    return self.observation in ("symbolic", "both")


class LevelSource(Protocol):
  """Where environments take their levels from instead of generating them (`level_supply.LevelSupply`).

  Attributes:
    width, height, num_boxes: the size and box count of every level it gives.
  """
  width: int
  height: int
  num_boxes: int

  def next_level(self) -> np.ndarray:
    """uint8 [height, width]: a valid level (checked by the source), not to be modified."""

  def close(self) -> None:
    """Releases the source's resources."""


def check_level_supply(config: SokobanConfig, supply: Optional[LevelSource]) -> Optional[LevelSource]:
  """Returns `supply` after checking that it suits `config`; ValueError naming the mismatch."""
  if supply is None:
    return None
  if config.levels is not None:
    raise ValueError("give levels or level_supply, not both")
  have = (supply.width, supply.height, supply.num_boxes)
  want = (config.width, config.height, config.num_boxes)
  if have != want:
    raise ValueError(f"level_supply makes (width, height, num_boxes) = {have} levels, the environment "
                     f"needs {want}")
  return supply


def check_generated(width: int, height: int, num_boxes: int) -> None:
  """Raises ValueError (when a room is configured, not at the first reset) unless the level generator
  can make levels of this size and box count."""
  from envs.sokoban import generator  # pylint: disable=g-import-not-at-top
  try:
    generator.check_arguments(width, height, num_boxes)
  except ValueError as error:
    raise ValueError(f"Cannot generate {height}x{width} Sokoban levels with {num_boxes} boxes: {error} "
                     f"(rooms of at least {generator.MIN_SIZE}x{generator.MIN_SIZE} cells, walls included, "
                     f"and 1 to {generator.MAX_BOXES} boxes; or give level files).") from error


def draw_level(config: SokobanConfig, rng: np.random.Generator,
               supply: Optional[LevelSource] = None) -> np.ndarray:
  """Draws the level of a new episode.

  Args:
    config: the settings; `config.levels` None means a freshly generated level.
    rng: the environment's generator (one draw per episode, so equal seeds give equal episodes).
    supply: if given, the level is its next one (`rng` is not used).

  Returns:
    uint8 [height, width] cell codes (do not modify: it may be shared with `config.levels`).
  """
  if supply is not None:
    return supply.next_level()
  if config.levels is None:
    from envs.sokoban import generator  # pylint: disable=g-import-not-at-top  # Optional until it exists.
    level = generator.generate_level(rng, width=config.width, height=config.height,
                                     num_boxes=config.num_boxes)
    return validate_levels([level], config.height, config.width, config.num_boxes,
                           source="generate_level() output")[0]
  return config.levels[rng.integers(len(config.levels))]
