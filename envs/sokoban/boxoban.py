"""Reading and writing levels in the Boxoban text format (DeepMind's public Sokoban level files).

A file holds blocks separated by blank lines. Each block is a header line `; N` (N the level's index)
followed by the level's rows: `#` wall, space floor, `.` target, `$` box, `*` box on target, `@` player,
`+` player on target. Every level in a file has the same shape.
"""
import glob
import os
import tempfile
from typing import Sequence

import numpy as np

from envs.sokoban import level as level_lib

_PLAYER_CHARS = "@+"
_BOX_CHARS = "$*"
_TARGET_CHARS = ".*+"


class LevelFormatError(ValueError):
  """A Boxoban file (or glob) that cannot be read; the message names the file, level and problem."""


def _blocks(path: str, lines: list[str]) -> list[tuple[int, str, list[str]]]:
  """Splits a file's lines into (line number of header, header, rows) blocks."""
  blocks = []
  after_blank = True  # Start of file, or a blank line since the last row.
  for number, line in enumerate(lines, start=1):
    if not line.strip():
      after_blank = True
      continue
    if line.startswith(";"):
      blocks.append((number, line.strip(), []))
    elif not blocks or (after_blank and blocks[-1][2]):
      after = f" (after level {len(blocks) - 1}, {blocks[-1][1]!r})" if blocks else ""
      raise LevelFormatError(f"{path}: line {number}: level rows without a '; N' header line "
                             f"(missing header){after}")
    else:
      blocks[-1][2].append(line)
    after_blank = False
  return blocks


def _parse_block(where: str, rows: list[str]) -> np.ndarray:
  """Checks one level's rows and converts them; `where` prefixes every error message."""
  if not rows:
    raise LevelFormatError(f"{where}: header with no level rows")
  for r, row in enumerate(rows):
    for c, ch in enumerate(row):
      if ch not in level_lib.CELL_OF_CHAR:
        raise LevelFormatError(f"{where}: unknown character {ch!r} at row {r}, column {c}")
  widths = {len(row) for row in rows}
  if len(widths) != 1:
    raise LevelFormatError(f"{where}: ragged rows (row lengths {[len(row) for row in rows]})")
  text = "".join(rows)
  num_players = sum(text.count(ch) for ch in _PLAYER_CHARS)
  if num_players != 1:
    raise LevelFormatError(f"{where}: needs exactly one player ('@' or '+'), found {num_players}")
  num_boxes = sum(text.count(ch) for ch in _BOX_CHARS)
  num_targets = sum(text.count(ch) for ch in _TARGET_CHARS)
  if num_boxes != num_targets:
    raise LevelFormatError(f"{where}: {num_boxes} boxes but {num_targets} targets")
  if num_boxes == 0:
    raise LevelFormatError(f"{where}: no boxes")
  return level_lib.from_text(rows)


def load_file(path: str) -> list[np.ndarray]:
  """Loads every level of one Boxoban file.

  Args:
    path: a text file in the Boxoban format.

  Returns:
    The levels in file order, each uint8 [H, W] (one shape per file).

  Raises:
    LevelFormatError: the file is malformed (the message names the file, level index, header and
      problem).
  """
  try:
    with open(path, encoding="utf-8") as f:
      lines = [line.rstrip("\r\n") for line in f]
  except UnicodeDecodeError as error:
    raise LevelFormatError(f"{path}: not a UTF-8 text file (byte {error.start}: {error.reason}); give a "
                           "Boxoban level file") from error
  levels = []
  for index, (number, header, rows) in enumerate(_blocks(path, lines)):
    where = f"{path}: level {index} ({header!r}, line {number})"
    level = _parse_block(where, rows)
    if levels and level.shape != levels[0].shape:
      raise LevelFormatError(f"{where}: shape {level.shape} (rows, columns) differs from the "
                             f"file's first level {levels[0].shape}")
    levels.append(level)
  if not levels:
    raise LevelFormatError(f"{path}: no levels (expected blocks starting with a '; N' header)")
  return levels


def load_levels(path_or_glob: str) -> list[np.ndarray]:
  """Loads the levels of a Boxoban file, of every `*.txt` in a directory, or of a glob's matches.

  Files are read in sorted path order, levels in file order.

  Args:
    path_or_glob: a file, a directory, or a glob pattern (`**` allowed).

  Returns:
    All levels, each uint8 [H, W] in the codes of `envs.sokoban.level`.

  Raises:
    LevelFormatError: nothing matched, or a file is malformed.
  """
  if os.path.isdir(path_or_glob):
    paths = sorted(glob.glob(os.path.join(path_or_glob, "*.txt")))
  elif os.path.isfile(path_or_glob):
    paths = [path_or_glob]
  else:
    paths = sorted(p for p in glob.glob(path_or_glob, recursive=True) if os.path.isfile(p))
  if not paths:
    raise LevelFormatError(f"no Boxoban level files match {path_or_glob!r}")
  levels = []
  for path in paths:
    levels.extend(load_file(path))
  return levels


def write_levels(path: str, levels: Sequence[np.ndarray], start_index: int = 0) -> None:
  """Writes levels as a Boxoban file, atomically (a temporary file renamed over `path`).

  Args:
    path: output file; its directory is created if missing.
    levels: uint8 [H, W] arrays in the codes of `envs.sokoban.level`, at least one.
    start_index: the header number of the first level (then counting up).

  Raises:
    ValueError: no levels, or a level with codes outside the cell codes or not 2-D.
  """
  if len(levels) == 0:
    raise ValueError(f"write_levels({path!r}): no levels to write")
  blocks = []
  for i, level in enumerate(levels):
    level = np.asarray(level)
    if level.ndim != 2 or not np.isin(level, list(level_lib.CHAR_OF_CELL)).all():
      raise ValueError(f"write_levels({path!r}): level {i} is not a 2-D array of cell codes")
    blocks.append(f"; {start_index + i}\n{level_lib.to_text(level)}\n\n")
  directory = os.path.dirname(os.path.abspath(path))
  os.makedirs(directory, exist_ok=True)
  fd, tmp_path = tempfile.mkstemp(dir=directory, prefix=".tmp_", suffix=".txt")
  try:
    with os.fdopen(fd, "w", encoding="utf-8") as f:
      f.write("".join(blocks))
      f.flush()
      os.fsync(f.fileno())
    os.chmod(tmp_path, 0o644)  # mkstemp makes the file private; level files are meant to be shared.
    os.replace(tmp_path, path)
  except BaseException:
    if os.path.exists(tmp_path):
      os.remove(tmp_path)
    raise
