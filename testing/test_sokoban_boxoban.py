"""Tests of the Boxoban text-format loader and writer (fixtures made here, not the real data set)."""
import os

import numpy as np
import pytest

from envs.sokoban import boxoban
from envs.sokoban import generator

W, F, T, B, BT, P, PT = range(7)  # The cell codes of level.py, spelled out.

LEVEL_0 = ["#######", "#@ $ .#", "#  *  #", "#######"]
LEVEL_1 = ["#######", "#+ $  #", "# $ . #", "#######"]
EXPECTED_0 = np.array([[W] * 7, [W, P, F, B, F, T, W], [W, F, F, BT, F, F, W], [W] * 7], np.uint8)
EXPECTED_1 = np.array([[W] * 7, [W, PT, F, B, F, F, W], [W, F, B, F, T, F, W], [W] * 7], np.uint8)


def _text(*blocks: tuple[str, list[str]]) -> str:
  return "".join(f"{header}\n" + "\n".join(rows) + "\n\n" for header, rows in blocks)


def _write(tmp_path, name: str, text: str) -> str:
  path = os.path.join(tmp_path, name)
  with open(path, "w", encoding="utf-8", newline="") as f:
    f.write(text)
  return path


def test_load_parses_every_character(tmp_path):
  path = _write(tmp_path, "000.txt", _text(("; 0", LEVEL_0), ("; 1", LEVEL_1)))
  levels = boxoban.load_levels(path)
  assert len(levels) == 2 and all(level.dtype == np.uint8 for level in levels)
  np.testing.assert_array_equal(levels[0], EXPECTED_0)
  np.testing.assert_array_equal(levels[1], EXPECTED_1)


def test_load_accepts_crlf_and_missing_final_blank_line(tmp_path):
  text = _text(("; 0", LEVEL_0), ("; 1", LEVEL_1)).rstrip("\n").replace("\n", "\r\n")
  levels = boxoban.load_levels(_write(tmp_path, "a.txt", text))
  np.testing.assert_array_equal(levels[1], EXPECTED_1)


def test_load_directory_and_glob_in_sorted_order(tmp_path):
  _write(tmp_path, "001.txt", _text(("; 0", LEVEL_1)))
  _write(tmp_path, "000.txt", _text(("; 0", LEVEL_0)))
  _write(tmp_path, "notes.md", "not a level file")
  for source in (str(tmp_path), os.path.join(tmp_path, "*.txt")):
    levels = boxoban.load_levels(source)
    assert len(levels) == 2
    np.testing.assert_array_equal(levels[0], EXPECTED_0)
    np.testing.assert_array_equal(levels[1], EXPECTED_1)


MALFORMED = {
    "unknown_character": (_text(("; 0", LEVEL_0), ("; 1", ["#######", "#+ $ x#", "# $ . #", "#######"])),
                          "level 1 ('; 1', line 7): unknown character 'x' at row 1, column 5"),
    "ragged_rows": (_text(("; 0", LEVEL_0), ("; 1", ["#######", "#+ $ #", "# $ . #", "#######"])),
                    "level 1 ('; 1', line 7): ragged rows"),
    "row_count_differs": (_text(("; 0", LEVEL_0), ("; 7", LEVEL_1[:3] + ["#     #", "#######"])),
                          "level 1 ('; 7', line 7): shape (5, 7)"),
    "no_player": (_text(("; 0", ["#######", "#  $ .#", "#######"])), "level 0 ('; 0', line 1): needs "
                  "exactly one player ('@' or '+'), found 0"),
    "two_players": (_text(("; 0", ["#######", "#@ $ .#", "#@    #", "#######"])),
                    "level 0 ('; 0', line 1): needs exactly one player ('@' or '+'), found 2"),
    "boxes_neq_targets": (_text(("; 0", ["#######", "#@$$ .#", "#######"])),
                          "level 0 ('; 0', line 1): 2 boxes but 1 targets"),
    "no_boxes": (_text(("; 0", ["#####", "#@  #", "#####"])), "level 0 ('; 0', line 1): no boxes"),
    "no_levels": ("\n\n", "no levels"),
    "missing_first_header": ("\n".join(LEVEL_0) + "\n", "line 1: level rows without a '; N' header"),
    "missing_later_header": (_text(("; 0", LEVEL_0)) + "\n".join(LEVEL_1) + "\n",
                             "line 7: level rows without a '; N' header line (missing header) (after "
                             "level 0, '; 0')"),
    "header_without_rows": (_text(("; 0", LEVEL_0)) + "; 1\n\n", "level 1 ('; 1', line 7): header "
                            "with no level rows"),
}


@pytest.mark.parametrize("text,message", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_file_error_names_file_level_and_problem(tmp_path, text, message):
  path = _write(tmp_path, "bad.txt", text)
  with pytest.raises(boxoban.LevelFormatError) as error:
    boxoban.load_levels(path)
  assert str(error.value).startswith(path + ": ")
  assert message in str(error.value)
  assert isinstance(error.value, ValueError)


def test_glob_matching_nothing(tmp_path):
  pattern = os.path.join(tmp_path, "*.txt")
  with pytest.raises(boxoban.LevelFormatError, match="no Boxoban level files match"):
    boxoban.load_levels(pattern)


def test_write_then_load_round_trip(tmp_path):
  rng = np.random.default_rng(0)
  levels = [generator.generate_level(rng, num_boxes=n) for n in (1, 4, 7)]
  path = os.path.join(tmp_path, "sub", "levels.txt")
  boxoban.write_levels(path, levels[:3], start_index=40)
  loaded = boxoban.load_levels(path)
  assert len(loaded) == 3
  for original, back in zip(levels, loaded):
    np.testing.assert_array_equal(original, back)
  with open(path, encoding="utf-8") as f:
    text = f.read()
  assert text.startswith("; 40\n##########\n") and "\n\n; 41\n" in text and text.endswith("#\n\n")
  assert os.listdir(os.path.dirname(path)) == ["levels.txt"]  # No temporary file left behind.
  boxoban.write_levels(path, [EXPECTED_0, EXPECTED_1])  # Replaces the file whole.
  loaded = boxoban.load_levels(path)
  np.testing.assert_array_equal(np.stack(loaded), np.stack([EXPECTED_0, EXPECTED_1]))


BAD_WRITES = {
    "no_levels": ([], "no levels to write"),
    "bad_code": ([np.full((3, 3), 9, np.uint8)], "level 0 is not a 2-D array of cell codes"),
    "not_2d": ([np.zeros(4, np.uint8)], "level 0 is not a 2-D array"),
}


@pytest.mark.parametrize("levels,message", BAD_WRITES.values(), ids=BAD_WRITES.keys())
def test_write_rejects_bad_input(tmp_path, levels, message):
  path = os.path.join(tmp_path, "out.txt")
  with pytest.raises(ValueError, match=message):
    boxoban.write_levels(path, levels)
  assert not os.path.exists(path)


def test_a_file_that_is_not_utf8_is_named(tmp_path):
  path = tmp_path / "levels.txt"
  path.write_bytes(b"; 0\n#####\n#@$.#\n#   #\n#   #\n#####\n\xff\xfe\n")
  with pytest.raises(boxoban.LevelFormatError, match=r"levels.txt: not a UTF-8 text file \(byte 34"):
    boxoban.load_levels(str(path))
