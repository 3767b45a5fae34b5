"""The in-memory form of a Sokoban level, shared by the environment, the generator, the solver and the
Boxoban text loader.

A level is a NumPy uint8 array [height, width] of the cell codes below. It holds exactly one player,
and as many boxes as targets (a box on a target and a player on a target are cells of their own).
"""
import numpy as np

WALL = 0
FLOOR = 1
TARGET = 2
BOX = 3
BOX_ON_TARGET = 4
PLAYER = 5
PLAYER_ON_TARGET = 6
NUM_CELL_TYPES = 7

# Boxoban text characters for each code (the format of DeepMind's public Boxoban level files).
CHAR_OF_CELL = {WALL: "#", FLOOR: " ", TARGET: ".", BOX: "$", BOX_ON_TARGET: "*", PLAYER: "@",
                PLAYER_ON_TARGET: "+"}
CELL_OF_CHAR = {c: code for code, c in CHAR_OF_CELL.items()}


def to_text(level: np.ndarray) -> str:
  """Renders a level as Boxoban text lines (no header)."""
  return "\n".join("".join(CHAR_OF_CELL[int(c)] for c in row) for row in level)


def from_text(lines: list[str]) -> np.ndarray:
  """Parses Boxoban text lines; raises KeyError on an unknown character (callers add context)."""
  width = max(len(line) for line in lines)
  level = np.full((len(lines), width), FLOOR, dtype=np.uint8)
  for r, line in enumerate(lines):
    for c, ch in enumerate(line):
      level[r, c] = CELL_OF_CHAR[ch]
  return level
