"""Sokoban for I2A (paper Sec. 4, App. D): a fast dm_env environment, its batched form and its levels.

`generate_level`, `load_levels` and `LevelSupply` are imported on first use, so this package imports
even where the level generator or the Boxoban loader is unavailable.
"""
import importlib
from typing import Any

from envs.sokoban.batched import BatchedSokoban
from envs.sokoban.config import ACTION_NAMES
from envs.sokoban.config import NUM_ACTIONS
from envs.sokoban.config import SokobanConfig
from envs.sokoban.env import Sokoban
from envs.sokoban.env import SokobanState
from envs.sokoban.level import BOX
from envs.sokoban.level import BOX_ON_TARGET
from envs.sokoban.level import FLOOR
from envs.sokoban.level import NUM_CELL_TYPES
from envs.sokoban.level import PLAYER
from envs.sokoban.level import PLAYER_ON_TARGET
from envs.sokoban.level import TARGET
from envs.sokoban.level import WALL
from envs.sokoban.render import PALETTE
from envs.sokoban.render import palette_indices
from envs.sokoban.render import render_level

# Public name -> the module that defines it, imported lazily (PEP 562).
_LAZY = {"generate_level": "envs.sokoban.generator", "load_levels": "envs.sokoban.boxoban",
         "LevelSupply": "envs.sokoban.level_supply"}

__all__ = ["BOX", "BOX_ON_TARGET", "BatchedSokoban", "FLOOR", "LevelSupply", "NUM_ACTIONS",
           "NUM_CELL_TYPES", "PALETTE", "PLAYER", "PLAYER_ON_TARGET", "Sokoban", "SokobanConfig",
           "SokobanState", "TARGET", "WALL", "generate_level", "load_levels", "palette_indices",
           "render_level"]


def __getattr__(name: str) -> Any:
  if name in _LAZY:
    return getattr(importlib.import_module(_LAZY[name]), name)
  raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
