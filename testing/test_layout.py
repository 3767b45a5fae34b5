"""The package layout's import directions (WORKSPACE.md, "Where things are").

Arrows point one way: the talk's modules (i2a/ top level and i2a/env_models) <- the planning code, the
training system (i2a/training), the environment-model pipeline (i2a/model_pipeline) and profiling
(i2a/profiling) <- the binaries (launch/). Reporting (i2a/reporting) reads run files and imports no other
package of i2a. envs/ imports nothing from i2a/ or launch/, and no binary imports another (only the shared
flags module and the flags-to-config module). Studies (i2a/study) run the binaries as subprocesses, so
they import from the training system only what they read (checkpoints, Ray's start-up), and the run
summaries from reporting.
The test reads every module's imports with `ast` (testing/import_graph.py), so it also sees imports inside
functions.
"""
import collections
import os
from typing import Dict, Tuple

import pytest

from testing import import_graph

REPO = import_graph.REPO
PACKAGES = ("envs", "talk", "planning", "training", "model_pipeline", "reporting", "profiling", "study",
            "launch")
# package -> the packages it may import from (besides itself).
ALLOWED = {
    "envs": set(),
    "talk": {"envs"},
    "planning": {"talk", "envs"},
    "training": {"talk", "envs", "planning"},
    "model_pipeline": {"talk", "envs", "training"},
    "reporting": set(),
    "profiling": {"talk", "envs"},
    "study": {"training", "reporting"},
    "launch": {"talk", "envs", "planning", "training", "model_pipeline", "reporting", "profiling", "study"},
}


def package_of(module: str) -> str:
  """'i2a.training.loop' -> 'training'; 'i2a.agent' / 'i2a.env_models.x' -> 'talk'; None if external."""
  parts = module.split(".")
  if parts[0] in ("envs", "launch"):
    return parts[0]
  if parts[0] != "i2a":
    return None
  if len(parts) > 1 and parts[1] in ("training", "model_pipeline", "planning", "reporting", "profiling", "study"):
    return parts[1]
  return "talk"


def source_files() -> Dict[str, str]:
  """Repository-relative path -> package, for every library and binary module."""
  files = {}
  for root in ("envs", "i2a", "launch"):
    for directory, _, names in os.walk(os.path.join(REPO, root)):
      for name in names:
        if name.endswith(".py"):
          relative = os.path.relpath(os.path.join(directory, name), REPO)
          files[relative] = package_of(relative[:-3].replace(os.sep, "."))
  return files


def import_counts() -> Dict[Tuple[str, str], int]:
  """(importing package, imported package) -> number of import statements across packages."""
  counts = collections.Counter()
  for path, package in source_files().items():
    for module, _ in import_graph.imports_of(os.path.join(REPO, path)):
      target = package_of(module)
      if target and target != package:
        counts[(package, target)] += 1
  return dict(counts)


def test_every_module_has_a_package():
  files = source_files()
  assert files and set(files.values()) == set(PACKAGES)


@pytest.mark.parametrize("path", sorted(source_files()))
def test_imports_point_one_way(path):
  package = source_files()[path]
  for module, _ in import_graph.imports_of(os.path.join(REPO, path)):
    target = package_of(module)
    if target is None or target == package or target in ALLOWED[package]:
      continue
    assert False, f"{path} ({package}) imports {module} ({target}): against the layout's direction."


@pytest.mark.parametrize("path", sorted(p for p, package in source_files().items() if package == "launch"))
def test_no_binary_imports_another(path):
  shared = {"launch.common_flags", "launch.config_flags", "launch.flags_to_config", "launch"}  # Shared flags, configs.
  for module, _ in import_graph.imports_of(os.path.join(REPO, path)):
    if package_of(module) == "launch":
      # `from launch.common_flags import X` reads as launch.common_flags.X: a name inside a shared module.
      assert any(module == m or module.startswith(m + ".") for m in shared if m != "launch"), (
          f"{path} imports the binary {module}; shared flags go in launch/common_flags.py.")


def test_the_counter_sees_known_edges():
  counts = import_counts()
  # Spot checks that the counter reads both import forms: the training loop builds agents from the talk's
  # factory, and launch.train drives the training loop.
  assert counts[("training", "talk")] > 0 and counts[("launch", "training")] > 0
  assert ("envs", "talk") not in counts and ("talk", "training") not in counts


if __name__ == "__main__":
  for (source, target), count in sorted(import_counts().items()):
    print(f"{source:>15} -> {target:<15} {count}")
