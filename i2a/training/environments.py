"""Builds the batched environment a training or evaluation run steps, from a typed config.

Sokoban (paper Sec. 4, App. D): a square room of `room_size` cells with `num_boxes` boxes, a new level
generated each episode or drawn from a Boxoban directory, 120-step episodes (paper App. D). Generated levels
come by default from a pool that background processes fill (`envs.sokoban.level_supply`), so level
generation does not cap frames/s once the agent solves levels in a few steps. MiniPacman
(paper Sec. 5, App. C): one of the five tasks on the standard 15x19 maze.
"""
import dataclasses
import functools
from typing import Optional

import numpy as np

from envs import batched
from i2a import games
from i2a import settings
from i2a.settings import setting

LEVEL_WHEN_DRY = ("replay", "wait")  # The policies of `envs.sokoban.level_supply.LevelSupply`.


@dataclasses.dataclass(frozen=True)
class EnvConfig:
  """How a run's environment behaves: episode caps and where Sokoban levels come from.

  Which game, task, room size and sprite size the environment has is not here: it is the agent's
  `geometry` (`games.Geometry`, on `AgentConfig`), stored once, and every builder below takes it, so an
  agent and its environment cannot disagree (WORKSPACE.md, "where things are").

  Attributes:
    num_boxes: Sokoban boxes per level (4 in training; 1-7 in the paper's Table 2).
    max_steps: Sokoban episode cap (120, App. D); the time-limit end keeps discount 1.
    levels: a Boxoban file, directory or glob to draw Sokoban levels from; None generates them.
    level_workers: processes generating Sokoban levels ahead for each `build_env` (each actor); 0
      generates each episode's level on the environment's thread (the copies' own seeded draws).
    level_pool_size: generated levels the workers may make ahead of the environment.
    level_when_dry: 'replay' (the pool never makes the environment wait: when it is empty, a recent
      level is replayed; which levels repeat depends on timing) or 'wait' (every level fresh, the
      sequence fixed by the seed; for evaluation and data collection).
    level_replay_size: recent fresh levels kept for replays.
    frame_cap: MiniPacman episode cap in steps.
  """
  num_boxes: int = setting(4, "Sokoban boxes per level (paper: 4).", scopes=(settings.SOKOBAN,), at_least=1)
  max_steps: int = setting(120, "Sokoban episode cap (paper App. D: 120).", scopes=(settings.SOKOBAN,), at_least=1)
  levels: Optional[str] = setting(None, "Boxoban level file/directory/glob; unset: generated levels.",
                                  scopes=(settings.SOKOBAN, settings.EVALUATION))
  level_workers: int = setting(1, "Processes generating Sokoban levels ahead, per actor; 0: each "
                               "episode's level is generated on the actor's thread.",
                               scopes=(settings.SOKOBAN, settings.LEVEL_SUPPLY, settings.RESUME), at_least=0)
  level_pool_size: int = setting(4096, "Generated levels the workers may make ahead.",
                                 scopes=(settings.SOKOBAN, settings.LEVEL_SUPPLY, settings.RESUME), at_least=1)
  level_when_dry: str = setting("replay", "When no fresh level is ready: 'replay' a recent one (never "
                                "waits) or 'wait' for it.", choices=LEVEL_WHEN_DRY,
                                scopes=(settings.SOKOBAN, settings.LEVEL_SUPPLY))
  level_replay_size: int = setting(10_000, "Recent levels kept for replays.",
                                   scopes=(settings.SOKOBAN, settings.LEVEL_SUPPLY), at_least=1)
  frame_cap: int = setting(3000, "MiniPacman episode cap in steps.", flag=settings.NO_FLAG, at_least=1)

  def __post_init__(self):
    settings.check(self)  # Each setting's own choices and bounds, as declared.

  def check(self, geometry: games.Geometry) -> None:
    """Raises ValueError if this environment cannot be built for `geometry`: boxes that do not fit the
    room (or that the generator cannot place), or level files for a game other than Sokoban."""
    if geometry.game == "sokoban":
      room = geometry.room_size
      if 2 * self.num_boxes + 1 > (room - 2) ** 2:
        raise ValueError(f"{self.num_boxes} boxes do not fit in a {room}x{room} room "
                         "(the outer wall takes one cell on each side).")
      if self.levels is None:  # Generated levels: refuse a room the generator cannot fill, now.
        from envs.sokoban import config as sokoban_config  # pylint: disable=g-import-not-at-top
        sokoban_config.check_generated(room, room, self.num_boxes)
    elif self.levels is not None:
      raise ValueError("Level files (levels=...) are for Sokoban only.")


@functools.lru_cache(maxsize=8)
def load_levels(path: str, room_size: int, num_boxes: int) -> np.ndarray:
  """The Boxoban levels of a file, directory or glob: uint8 [L, room_size, room_size], read once per
  process and path; ValueError naming the file for a level of another size or box count."""
  from envs import sokoban  # pylint: disable=g-import-not-at-top
  from envs.sokoban import config as sokoban_config  # pylint: disable=g-import-not-at-top
  levels = sokoban.load_levels(path)
  return sokoban_config.validate_levels(levels, room_size, room_size, num_boxes, source=f"levels in {path}")


def build_env(geometry: games.Geometry, config: EnvConfig, num_envs: int,
              seed: Optional[int] = None) -> batched.BatchedEnvironment:
  """`num_envs` copies of the game `geometry` names, behaving as `config` says; copy i is seeded with
  `seed + i` (unseeded if None).

  Generated Sokoban levels with `level_workers` > 0 come from one level supply seeded with `seed`,
  shared by the copies; `close()` the environment to stop its worker processes (they also stop when
  it is garbage collected, and at exit).

  Raises:
    ValueError: for a bad level file or argument (the message names the file).
  """
  config.check(geometry)
  if geometry.game == "sokoban":
    room = geometry.room_size
    from envs import sokoban  # pylint: disable=g-import-not-at-top
    levels = supply = None
    if config.levels is not None:
      levels = load_levels(config.levels, room, config.num_boxes)
    elif config.level_workers:
      from envs.sokoban import level_supply  # pylint: disable=g-import-not-at-top
      supply = level_supply.LevelSupply(
          room, room, config.num_boxes, seed=seed, num_workers=config.level_workers,
          pool_size=config.level_pool_size, when_dry=config.level_when_dry,
          replay_size=config.level_replay_size)
    return sokoban.BatchedSokoban(num_envs, width=room, height=room,
                                  num_boxes=config.num_boxes, max_steps=config.max_steps,
                                  pixels_per_cell=geometry.pixels_per_cell, levels=levels, seed=seed,
                                  level_supply=supply)
  from envs import minipacman  # pylint: disable=g-import-not-at-top
  return minipacman.BatchedMiniPacman(num_envs, task=geometry.task, seed=seed, frame_cap=config.frame_cap)
