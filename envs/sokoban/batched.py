"""N Sokoban games stepped together with vectorised NumPy (the actors' `BatchedEnvironment`).

The game logic is the one of `envs.sokoban.env.Sokoban`, written over a batch: each copy's state is a
row of a flat, wall-padded grid, and a step gathers the cell ahead of and beyond every player at once,
then scatters the <= 3 changed cells of every copy into the grid, the persistent frames and the
symbolic planes. Only copies that start a new episode run Python code of their own (drawing a level).

Copy i is seeded with `seed + i`, so it plays exactly the episodes of `Sokoban(seed=seed + i)` with the
same actions (the batched first step reports reward 0 and discount 1 where dm_env's has None). With a
`level_supply`, the copies share its levels instead, taken in the order they start episodes.
"""
from typing import Optional, Sequence

import dm_env
import numpy as np

from envs import batched as batched_lib
from envs.sokoban import config as config_lib
from envs.sokoban import env as env_lib
from envs.sokoban import level as level_lib
from envs.sokoban import render

_F, _T = level_lib.FLOOR, level_lib.TARGET
_B, _BT = level_lib.BOX, level_lib.BOX_ON_TARGET
_P, _PT = level_lib.PLAYER, level_lib.PLAYER_ON_TARGET
_FIRST, _MID, _LAST = (int(t) for t in (dm_env.StepType.FIRST, dm_env.StepType.MID,
                                         dm_env.StepType.LAST))


class BatchedSokoban(batched_lib.BatchedEnvironment):
  """`num_envs` Sokoban copies with automatic reset (see `envs.batched` and `Sokoban` for the rules)."""

  def __init__(self, num_envs: int, width: int = 10, height: int = 10, num_boxes: int = 4,
               max_steps: int = 120, observation: str = "rgb", pixels_per_cell: int = 8,
               levels: Optional[Sequence[np.ndarray]] = None, seed: Optional[int] = None,
               level_supply: Optional[config_lib.LevelSource] = None):
    """Builds the copies.

    Args:
      num_envs: N >= 1.
      width, height, num_boxes, max_steps, observation, pixels_per_cell, levels: as for `Sokoban`.
      seed: copy i is seeded with `seed + i` (all unseeded if None).
      level_supply: as for `Sokoban`: every copy takes its levels from it, in the order the copies
        start episodes (by copy index within a step); the environment owns it and closes it in
        `close()`.

    Raises:
      ValueError: for a bad argument or a bad level.
    """
    if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
      raise ValueError(f"num_envs must be an int >= 1, got {num_envs!r}")
    self._config = config_lib.SokobanConfig(width=width, height=height, num_boxes=num_boxes,
                                            max_steps=max_steps, observation=observation,
                                            pixels_per_cell=pixels_per_cell, levels=levels)
    self._supply = config_lib.check_level_supply(self._config, level_supply)
    cfg = self._config
    n, ppc = int(num_envs), cfg.pixels_per_cell
    self._num_envs = n
    self._rngs = [np.random.default_rng(None if seed is None else seed + i) for i in range(n)]
    stride = cfg.width + 2
    size = (cfg.height + 2) * stride
    rows, cols = np.divmod(np.arange(size), stride)
    self._cell_row, self._cell_col = rows - 1, cols - 1  # Padded flat index -> unpadded (row, col).
    self._moves = np.array([dr * stride + dc for dr, dc in config_lib.ACTION_MOVES], np.int64)
    self._rewards = config_lib.reward_table()
    self._sprites = render.sprite_rgb(ppc)
    self._one_hot = np.eye(level_lib.NUM_CELL_TYPES, dtype=np.uint8)
    self._arange = np.arange(n)
    self._cells = np.zeros((n, size), np.uint8)
    self._target = np.zeros((n, size), bool)
    self._player = np.zeros(n, np.int64)
    self._boxes_on_target = np.zeros(n, np.int64)
    self._steps = np.zeros(n, np.int64)
    self._needs_reset = np.ones(n, bool)
    self._frames = (np.zeros((n, cfg.height * ppc, cfg.width * ppc, 3), np.uint8)
                    if cfg.wants_rgb else None)
    # A view of the frames with one [ppc, ppc, 3] block per (copy, row, column).
    self._tiles = (self._frames.reshape(n, cfg.height, ppc, cfg.width, ppc, 3)
                   if cfg.wants_rgb else None)
    self._symbolic = (np.zeros((n, cfg.height, cfg.width, level_lib.NUM_CELL_TYPES), np.uint8)
                      if cfg.wants_symbolic else None)

  @property
  def num_envs(self) -> int:
    return self._num_envs

  @property
  def num_actions(self) -> int:
    return config_lib.NUM_ACTIONS

  @property
  def config(self) -> config_lib.SokobanConfig:
    return self._config

  def observation_spec(self):
    """One copy's observation spec (dict of `specs.Array`); batched arrays add a leading [N] axis."""
    return env_lib.observation_spec(self._config)

  def close(self) -> None:
    """Closes the level supply, if any (its worker processes stop)."""
    if self._supply is not None:
      self._supply.close()

  def current_levels(self) -> np.ndarray:
    """uint8 [N, height, width]: every copy's current cell codes (a new array)."""
    cfg = self._config
    return self._cells.reshape(-1, cfg.height + 2, cfg.width + 2)[:, 1:-1, 1:-1].copy()

  def _load(self, i: int) -> None:
    """Starts a new episode in copy i on a freshly drawn level."""
    level = config_lib.draw_level(self._config, self._rngs[i], self._supply)
    cells = env_lib.pad_level(level).ravel()
    self._cells[i] = cells
    self._target[i] = (cells == _T) | (cells == _BT) | (cells == _PT)
    self._player[i] = np.flatnonzero((cells == _P) | (cells == _PT))[0]
    self._boxes_on_target[i] = np.count_nonzero(cells == _BT)
    self._steps[i] = 0
    self._needs_reset[i] = False
    if self._tiles is not None:  # [H, ppc, W, ppc, 3] <- [H, W, ppc, ppc, 3] sprites.
      self._tiles[i] = self._sprites[level].transpose(0, 2, 1, 3, 4)
    if self._symbolic is not None:
      self._symbolic[i] = self._one_hot[level]

  def get_state(self, i: int, include_rng: bool = True) -> env_lib.SokobanState:
    """A snapshot of copy i; the same type as `Sokoban.get_state`, so states move between the two."""
    return env_lib.SokobanState(
        tuple(self._cells[i].tolist()), tuple(self._target[i].tolist()), int(self._player[i]),
        int(self._boxes_on_target[i]), int(self._steps[i]), bool(self._needs_reset[i]),
        self._rngs[i].bit_generator.state if include_rng else None)

  def set_state(self, i: int, state: env_lib.SokobanState) -> None:
    """Restores copy i to a snapshot of a game with the same config (see `Sokoban.set_state`)."""
    cfg = self._config
    if len(state.cells) != self._cells.shape[1]:
      raise ValueError(f"set_state: the state holds {len(state.cells)} padded cells; this "
                       f"{cfg.height}x{cfg.width} environment has {self._cells.shape[1]}")
    self._cells[i] = state.cells
    self._target[i] = state.target
    self._player[i] = state.player
    self._boxes_on_target[i] = state.boxes_on_target
    self._steps[i] = state.steps
    self._needs_reset[i] = state.reset_next_step
    if state.rng_state is not None:
      self._rngs[i].bit_generator.state = state.rng_state
    level = state.level(cfg.height, cfg.width)
    if self._tiles is not None:
      self._tiles[i] = self._sprites[level].transpose(0, 2, 1, 3, 4)
    if self._symbolic is not None:
      self._symbolic[i] = self._one_hot[level]

  def reset(self) -> batched_lib.BatchedTimeStep:
    for i in range(self._num_envs):
      self._load(i)
    n = self._num_envs
    return self._timestep(np.full(n, _FIRST, np.int32), np.zeros(n, np.float32),
                          np.ones(n, np.float32))

  def step(self, actions: np.ndarray) -> batched_lib.BatchedTimeStep:
    actions = np.asarray(actions)
    if actions.shape != (self._num_envs,) or not np.issubdtype(actions.dtype, np.integer):
      raise ValueError(f"actions must be integers of shape ({self._num_envs},), got {actions.dtype} "
                       f"{actions.shape}")
    if actions.min() < 0 or actions.max() >= config_lib.NUM_ACTIONS:
      raise ValueError(f"actions must be in [0, {config_lib.NUM_ACTIONS}), got {actions}")
    resetting = self._needs_reset.copy()
    playing = ~resetting
    ar, cells, target = self._arange, self._cells, self._target
    move = self._moves[actions] * playing  # Resetting copies stand still.
    here = self._player
    ahead = here + move
    beyond = np.minimum(ahead + move, cells.shape[1] - 1)  # Only read where a box is ahead (inside).
    code_ahead, code_beyond = cells[ar, ahead], cells[ar, beyond]
    push = (((code_ahead == _B) | (code_ahead == _BT))
            & ((code_beyond == _F) | (code_beyond == _T)))
    walk = (code_ahead == _F) | (code_ahead == _T) | push
    t_here, t_ahead, t_beyond = target[ar, here], target[ar, ahead], target[ar, beyond]
    change = push * (t_beyond.astype(np.int64) - t_ahead)

    pushers, walkers = np.flatnonzero(push), np.flatnonzero(walk)
    envs = np.concatenate([pushers, walkers, walkers])
    where = np.concatenate([beyond[pushers], here[walkers], ahead[walkers]])
    codes = np.concatenate([np.where(t_beyond[pushers], _BT, _B), np.where(t_here[walkers], _T, _F),
                            np.where(t_ahead[walkers], _PT, _P)]).astype(np.uint8)
    cells[envs, where] = codes
    self._redraw(envs, where, codes)
    self._player = np.where(walk, ahead, here)
    self._boxes_on_target += change
    self._steps += playing

    solved = playing & (self._boxes_on_target == self._config.num_boxes)
    timeout = playing & ~solved & (self._steps >= self._config.max_steps)
    reward = self._rewards[change + 1, solved.astype(np.int64)]
    reward[resetting] = 0.0
    discount = np.where(solved, 0.0, 1.0).astype(np.float32)
    step_type = np.where(solved | timeout, _LAST, _MID).astype(np.int32)
    step_type[resetting] = _FIRST
    self._needs_reset = solved | timeout
    for i in np.flatnonzero(resetting):
      self._load(int(i))
    return self._timestep(step_type, reward, discount)

  def _redraw(self, envs: np.ndarray, where: np.ndarray, codes: np.ndarray) -> None:
    """Redraws padded cells `where` (int [K]) of copies `envs` (int [K]) as `codes` (uint8 [K])."""
    rows, cols = self._cell_row[where], self._cell_col[where]
    if self._tiles is not None:
      self._tiles[envs, rows, :, cols, :] = self._sprites[codes]  # [K, ppc, ppc, 3]
    if self._symbolic is not None:
      self._symbolic[envs, rows, cols] = self._one_hot[codes]

  def _timestep(self, step_type, reward, discount) -> batched_lib.BatchedTimeStep:
    obs = {}
    if self._frames is not None:
      obs["rgb"] = self._frames.copy()
    if self._symbolic is not None:
      obs["symbolic"] = self._symbolic.copy()
    return batched_lib.BatchedTimeStep(step_type, reward, discount, obs)
