"""Tests of the `launch.generate_levels` binary (library call and command line)."""
import os
import subprocess
import sys

import numpy as np
import pytest

from envs.sokoban import boxoban
from launch import generate_levels

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _files(directory) -> dict[str, str]:
  out = {}
  for name in sorted(os.listdir(directory)):
    with open(os.path.join(directory, name), encoding="utf-8") as f:
      out[name] = f.read()
  return out


def test_generate_writes_files_of_the_requested_size(tmp_path):
  stats = generate_levels.generate(num=25, out=str(tmp_path), num_boxes=2, width=8, height=9,
                                   seed=3, levels_per_file=10, solve_sample=4)
  assert sorted(os.listdir(tmp_path)) == ["000.txt", "001.txt", "002.txt"]
  counts = [len(boxoban.load_levels(os.path.join(tmp_path, f"00{k}.txt"))) for k in range(3)]
  assert counts == [10, 10, 5]
  for level in boxoban.load_levels(str(tmp_path)):
    assert level.shape == (9, 8) and (level == 3).sum() == 2
  assert stats["levels"] == 25 and stats["files"] == 3 and stats["levels_per_s"] > 0
  assert stats["solved"] == 4 and stats["solver_budget_exceeded"] == 0
  assert stats["mean_optimal_pushes"] >= 1 and stats["mean_room_score"] >= 1
  assert _files(tmp_path)["001.txt"].startswith("; 0\n")  # Headers count from 0 in every file.


def test_output_depends_on_seed_not_on_processes(tmp_path):
  runs = {}
  for name, seed, processes in (("a", 5, 1), ("b", 5, 2), ("c", 6, 1)):
    generate_levels.generate(num=120, out=str(tmp_path / name), seed=seed, processes=processes,
                             levels_per_file=50, num_boxes=1, width=7, height=7)
    runs[name] = _files(tmp_path / name)
  assert runs["a"] == runs["b"]
  assert runs["a"] != runs["c"]
  # Chunks of one run come from distinct generators: no chunk repeats another.
  levels = boxoban.load_levels(str(tmp_path / "a"))
  assert not np.array_equal(np.stack(levels[:20]), np.stack(levels[100:120]))


def test_refuses_to_overwrite_unless_asked(tmp_path):
  generate_levels.generate(num=3, out=str(tmp_path), num_boxes=1, width=6, height=6)
  with pytest.raises(ValueError, match="000.txt already exists"):
    generate_levels.generate(num=3, out=str(tmp_path), num_boxes=1, width=6, height=6)
  generate_levels.generate(num=3, out=str(tmp_path), num_boxes=1, width=6, height=6, seed=1,
                           overwrite=True)


def _run(*flags: str) -> subprocess.CompletedProcess:
  env = dict(os.environ, PYTHONPATH=REPO)
  return subprocess.run([sys.executable, "-m", "launch.generate_levels", *flags], cwd=REPO, env=env,
                        capture_output=True, text=True, timeout=120, check=False)


def test_command_line_run(tmp_path):
  result = _run("--num=4", f"--out={tmp_path}", "--num_boxes=2", "--width=7", "--height=7",
                "--solve_sample=2")
  assert result.returncode == 0, result.stderr
  assert "levels/s:" in result.stdout and "mean optimal pushes" in result.stdout
  assert len(boxoban.load_levels(str(tmp_path / "000.txt"))) == 4


BAD_FLAGS = {
    "too_many_boxes": (["--num=2", "--num_boxes=8"], "num_boxes"),
    "zero_levels": (["--num=0"], "--num"),
    "tiny_room": (["--num=2", "--width=4"], "width"),
    "zero_processes": (["--num=2", "--processes=0"], "processes"),
    "sample_above_num": (["--num=2", "--solve_sample=3"], "--solve_sample=3 exceeds --num=2"),
    "missing_num": ([], "--num"),
}


@pytest.mark.parametrize("flags,message", BAD_FLAGS.values(), ids=BAD_FLAGS.keys())
def test_command_line_refuses_bad_flags(tmp_path, flags, message):
  result = _run(*flags, f"--out={tmp_path / 'out'}")
  assert result.returncode != 0
  assert message in result.stderr
  assert not os.path.exists(tmp_path / "out")
