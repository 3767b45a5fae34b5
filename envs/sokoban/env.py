"""Sokoban as a fast `dm_env.Environment` (I2A paper Sec. 4 and App. D).

Speed comes from keeping the state as Python lists over a flat, wall-padded grid (no NumPy scalar
indexing in the game logic) and redrawing only the <= 3 cells a step changes into a persistent frame;
the returned observation is a copy of that frame.

`get_state` / `set_state` copy and restore the whole game exactly (for planners that use the simulator
as a perfect model, e.g. MCTS in paper App. D.3): a `SokobanState` is a small immutable snapshot.
"""
from typing import Any, NamedTuple, Optional, Sequence

import dm_env
from dm_env import specs
import numpy as np

from envs import batched as batched_lib
from envs.sokoban import config as config_lib
from envs.sokoban import level as level_lib
from envs.sokoban import render

_W, _F, _T = level_lib.WALL, level_lib.FLOOR, level_lib.TARGET
_B, _BT = level_lib.BOX, level_lib.BOX_ON_TARGET
_P, _PT = level_lib.PLAYER, level_lib.PLAYER_ON_TARGET
_ZERO = np.float32(0.0)
_ONE = np.float32(1.0)


class SokobanState(NamedTuple):
  """An immutable snapshot of everything that decides a Sokoban game's future steps and observations.

  Attributes:
    cells: padded flat cell codes, (height + 2) * (width + 2) ints (the level in a ring of walls).
    target: whether each padded cell is a target (fixed for a level; shared between snapshots).
    player: the player's padded flat index.
    boxes_on_target: how many boxes stand on targets.
    steps: steps taken in the episode (the time limit counts them).
    reset_next_step: the episode has ended, so the next `step` starts a new one.
    rng_state: the level generator's random state (it decides the next level), or None when the
      snapshot leaves it out (restoring then keeps the environment's current random state).
  """
  cells: tuple[int, ...]
  target: tuple[bool, ...]
  player: int
  boxes_on_target: int
  steps: int
  reset_next_step: bool
  rng_state: Optional[dict] = None

  def level(self, height: int, width: int) -> np.ndarray:
    """uint8 [height, width]: the cell codes without the padding ring."""
    return np.array(self.cells, np.uint8).reshape(height + 2, width + 2)[1:-1, 1:-1]


def pad_level(level: np.ndarray) -> np.ndarray:
  """uint8 [H + 2, W + 2]: the level inside a ring of walls, so no move can leave the grid."""
  height, width = level.shape
  padded = np.full((height + 2, width + 2), level_lib.WALL, np.uint8)  # Much faster than np.pad.
  padded[1:-1, 1:-1] = level
  return padded


def observation_spec(config: config_lib.SokobanConfig) -> dict[str, specs.Array]:
  """The observation spec of one environment with `config` (keys 'rgb' and/or 'symbolic')."""
  spec = {}
  if config.wants_rgb:
    ppc = config.pixels_per_cell
    spec["rgb"] = specs.Array((config.height * ppc, config.width * ppc, 3), np.uint8, name="rgb")
  if config.wants_symbolic:
    spec["symbolic"] = specs.Array((config.height, config.width, level_lib.NUM_CELL_TYPES), np.uint8,
                                   name="symbolic")
  return spec


class Sokoban(dm_env.Environment):
  """Push every box onto a target.

  Actions: 0 no-op, 1 up, 2 down, 3 left, 4 right. The player pushes at most one box and never pulls;
  a move into a wall, or a push into a wall or another box, leaves the state unchanged (the step still
  costs -0.1).

  Rewards (see `envs.sokoban.config`): -0.1 per step, +1 box onto a target, -1 box off a target, +10
  when every box is on a target. The terms add up, so the solving step earns 10.9: we follow the sum
  convention of the most-used public implementation (gym-sokoban); the paper's appendix is
  unconfirmed here.

  Episode ends: solving ends the episode with discount 0; reaching `max_steps` steps ends it with
  discount 1 (a truncation, so learners bootstrap; App. D). As in dm_env, the first step of an
  episode has reward and discount None, and `step()` after a LAST step starts a new episode.

  Observations: a dict with 'rgb' uint8 [H * ppc, W * ppc, 3] (80x80x3 by default, every pixel a
  `render.PALETTE` colour) and/or 'symbolic' uint8 [H, W, 7] one-hot cell codes.
  """

  def __init__(self, width: int = 10, height: int = 10, num_boxes: int = 4, max_steps: int = 120,
               observation: str = "rgb", pixels_per_cell: int = 8,
               levels: Optional[Sequence[np.ndarray]] = None, seed: Optional[int] = None,
               level_supply: Optional[config_lib.LevelSource] = None):
    """Builds the environment.

    Args:
      width, height: grid size in cells.
      num_boxes: boxes per level.
      max_steps: steps before a time-limit end.
      observation: 'rgb', 'symbolic' or 'both'.
      pixels_per_cell: sprite side in pixels.
      levels: None to generate a new level every episode (`envs.sokoban.generator`), or level arrays
        uint8 [height, width] (e.g. from `load_levels`) drawn uniformly at random each episode.
      seed: seeds the level draws; the same seed gives the same episodes.
      level_supply: instead of `levels`, where each episode's level comes from (e.g. a
        `level_supply.LevelSupply` of generated levels); the environment owns it and closes it in
        `close()`. `seed` then plays no part.

    Raises:
      ValueError: for a bad argument or a bad level.
    """
    self._config = config_lib.SokobanConfig(width=width, height=height, num_boxes=num_boxes,
                                            max_steps=max_steps, observation=observation,
                                            pixels_per_cell=pixels_per_cell, levels=levels)
    self._supply = config_lib.check_level_supply(self._config, level_supply)
    self.reseed(seed)
    cfg = self._config
    ppc = cfg.pixels_per_cell
    stride = cfg.width + 2
    # Padded flat index -> (row, column) in the unpadded level.
    self._cell_rc = [(i // stride - 1, i % stride - 1) for i in range((cfg.height + 2) * stride)]
    self._moves = [dr * stride + dc for dr, dc in config_lib.ACTION_MOVES]
    self._rewards = config_lib.reward_table()
    self._sprites = render.sprite_rgb(ppc)
    self._one_hot = np.eye(level_lib.NUM_CELL_TYPES, dtype=np.uint8)
    self._frame = np.zeros((cfg.height * ppc, cfg.width * ppc, 3), np.uint8) if cfg.wants_rgb else None
    self._tiles = (self._frame.reshape(cfg.height, ppc, cfg.width, ppc, 3)
                   if cfg.wants_rgb else None)  # A view of the frame, one [ppc, ppc, 3] block per cell.
    self._symbolic = (np.zeros((cfg.height, cfg.width, level_lib.NUM_CELL_TYPES), np.uint8)
                      if cfg.wants_symbolic else None)
    self._cells: list[int] = []
    self._target: tuple[bool, ...] = ()
    self._player = 0
    self._boxes_on_target = 0
    self._steps = 0
    self._reset_next_step = True

  @property
  def config(self) -> config_lib.SokobanConfig:
    return self._config

  def reseed(self, seed: Optional[int]) -> None:
    """Restarts the level draws from `seed` (the next reset uses it)."""
    self._rng = np.random.default_rng(seed)
    self._reset_next_step = True

  def current_level(self) -> np.ndarray:
    """uint8 [height, width]: the current cell codes (a new array)."""
    cfg = self._config
    padded = np.array(self._cells, np.uint8).reshape(cfg.height + 2, cfg.width + 2)
    return padded[1:-1, 1:-1].copy()

  def reset(self) -> dm_env.TimeStep:
    """Starts an episode on a new level; reward and discount are None."""
    self._load(config_lib.draw_level(self._config, self._rng, self._supply))
    return dm_env.TimeStep(dm_env.StepType.FIRST, None, None, self._observation())

  def reset_to_level(self, level: np.ndarray) -> dm_env.TimeStep:
    """Starts an episode on a given level (uint8 [height, width], checked like `levels`)."""
    cfg = self._config
    self._load(config_lib.validate_levels([level], cfg.height, cfg.width, cfg.num_boxes, "level")[0])
    return dm_env.TimeStep(dm_env.StepType.FIRST, None, None, self._observation())

  def _load(self, level: np.ndarray) -> None:
    """Puts the game in `level` (uint8 [height, width]) at step 0."""
    padded = pad_level(level)
    self._cells = padded.ravel().tolist()
    self._target = tuple(c in (_T, _BT, _PT) for c in self._cells)
    self._player = next(i for i, c in enumerate(self._cells) if c in (_P, _PT))
    self._boxes_on_target = self._cells.count(_BT)
    self._steps = 0
    self._reset_next_step = False
    if self._tiles is not None:  # [H, ppc, W, ppc, 3] <- [H, W, ppc, ppc, 3] sprites.
      self._tiles[...] = self._sprites[level].transpose(0, 2, 1, 3, 4)
    if self._symbolic is not None:
      self._symbolic[...] = self._one_hot[level]

  def get_state(self, include_rng: bool = True) -> SokobanState:
    """A snapshot of the game for `set_state` (about 2 us; `include_rng=False` saves the random state's
    copy for planners that never reset)."""
    return SokobanState(tuple(self._cells), self._target, self._player, self._boxes_on_target,
                        self._steps, self._reset_next_step,
                        self._rng.bit_generator.state if include_rng else None)

  def set_state(self, state: SokobanState) -> None:
    """Restores a snapshot of an environment with the same config: afterwards every step, reward and
    observation equal those that followed the snapshot. Redraws only the cells that differ."""
    cfg = self._config
    if len(state.cells) != (cfg.height + 2) * (cfg.width + 2):
      raise ValueError(f"set_state: the state holds {len(state.cells)} padded cells; this "
                       f"{cfg.height}x{cfg.width} environment has {(cfg.height + 2) * (cfg.width + 2)}")
    old = self._cells
    self._cells = list(state.cells)
    self._target = state.target
    self._player = state.player
    self._boxes_on_target = state.boxes_on_target
    self._steps = state.steps
    self._reset_next_step = state.reset_next_step
    if state.rng_state is not None:
      self._rng.bit_generator.state = state.rng_state
    if len(old) != len(state.cells):  # Nothing drawn yet: draw the whole level.
      level = state.level(cfg.height, cfg.width)
      if self._tiles is not None:
        self._tiles[...] = self._sprites[level].transpose(0, 2, 1, 3, 4)
      if self._symbolic is not None:
        self._symbolic[...] = self._one_hot[level]
      return
    for i, (was, code) in enumerate(zip(old, state.cells)):
      if was != code:
        self._draw(i, code)

  def observation(self) -> dict[str, np.ndarray]:
    """The current observation (as the last step returned it; a new copy)."""
    return self._observation()

  def _draw(self, index: int, code: int) -> None:
    """Sets padded cell `index` to `code` and redraws it."""
    self._cells[index] = code
    r, c = self._cell_rc[index]
    if self._tiles is not None:
      self._tiles[r, :, c, :] = self._sprites[code]
    if self._symbolic is not None:
      self._symbolic[r, c] = self._one_hot[code]

  def step(self, action: Any) -> dm_env.TimeStep:
    """Moves the player; see the class docstring for the rules."""
    if self._reset_next_step:
      return self.reset()
    a = batched_lib.check_action(action, config_lib.NUM_ACTIONS)  # Floats and strings are refused, not cast.
    change = 0  # Change in the number of boxes on targets.
    move = self._moves[a]
    if move:
      cells, target = self._cells, self._target
      here = self._player
      ahead = here + move
      code = cells[ahead]
      walk = code == _F or code == _T
      if code == _B or code == _BT:
        beyond = ahead + move
        behind_box = cells[beyond]
        if behind_box == _F or behind_box == _T:
          walk = True
          change = target[beyond] - target[ahead]
          self._draw(beyond, _BT if target[beyond] else _B)
      if walk:
        self._draw(here, _T if target[here] else _F)
        self._draw(ahead, _PT if target[ahead] else _P)
        self._player = ahead
        self._boxes_on_target += change
    self._steps += 1
    solved = self._boxes_on_target == self._config.num_boxes
    reward = self._rewards[change + 1, int(solved)]
    if solved:
      self._reset_next_step = True
      return dm_env.TimeStep(dm_env.StepType.LAST, reward, _ZERO, self._observation())
    if self._steps >= self._config.max_steps:
      self._reset_next_step = True
      return dm_env.TimeStep(dm_env.StepType.LAST, reward, _ONE, self._observation())
    return dm_env.TimeStep(dm_env.StepType.MID, reward, _ONE, self._observation())

  def _observation(self) -> dict[str, np.ndarray]:
    obs = {}
    if self._frame is not None:
      obs["rgb"] = self._frame.copy()
    if self._symbolic is not None:
      obs["symbolic"] = self._symbolic.copy()
    return obs

  def close(self) -> None:
    """Closes the level supply, if any (its worker processes stop)."""
    if self._supply is not None:
      self._supply.close()

  def observation_spec(self) -> dict[str, specs.Array]:
    return observation_spec(self._config)

  def action_spec(self) -> specs.DiscreteArray:
    return specs.DiscreteArray(config_lib.NUM_ACTIONS, dtype=np.int32, name="action")

  def reward_spec(self) -> specs.Array:
    return specs.Array((), np.float32, name="reward")

  def discount_spec(self) -> specs.BoundedArray:
    return specs.BoundedArray((), np.float32, minimum=0.0, maximum=1.0, name="discount")

