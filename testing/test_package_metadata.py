"""pyproject.toml, the package's one metadata declaration: it declares every third-party package the code
imports, and the Python versions it allows agree with its classifiers."""
import functools
import importlib.metadata
import os
import re
import sys
import tomllib

import pytest

from testing import import_graph

REPO = import_graph.REPO
OURS = ("i2a", "envs", "launch", "testing")
# Imported on purpose without being declared: launch.benchmark_envs times the public gym-sokoban package
# beside ours when it happens to be installed (gym-sokoban needs the retired `gym`).
UNDECLARED = {"gym", "gym_sokoban"}


def project() -> dict:
  with open(os.path.join(REPO, "pyproject.toml"), "rb") as f:
    return tomllib.load(f)["project"]


def normalized(requirement: str) -> str:
  """'ray[default]==2.*' -> 'ray'; 'dm_env' / 'DM.Env' -> 'dm-env' (PEP 503)."""
  name = re.match(r"[A-Za-z0-9._-]+", requirement).group(0)
  return re.sub(r"[-_.]+", "-", name).lower()


def third_party_imports(roots) -> dict:
  """Top-level name -> True if some module under `roots` imports it at module level, else False."""
  found = {}
  for path in import_graph.module_files().values():
    if path.split(os.sep)[0] not in roots:
      continue
    for name, top_level in import_graph.imports_of(os.path.join(REPO, path)):
      root = name.split(".")[0]
      if root not in sys.stdlib_module_names and root not in OURS:
        found[root] = found.get(root, False) or top_level
  return found


@functools.lru_cache(maxsize=None)
def _providers() -> dict:
  return importlib.metadata.packages_distributions()


def distributions(module: str) -> set:
  """The installed distributions that provide the importable `module` (normalized names)."""
  provided = _providers().get(module)
  assert provided, f"{module} is imported but no installed distribution provides it."
  return {normalized(d) for d in provided}


def test_every_module_level_import_is_a_dependency():
  core = {normalized(r) for r in project()["dependencies"]}
  missing = {m: distributions(m) for m, top in third_party_imports(("i2a", "envs", "launch")).items()
             if top and m not in UNDECLARED and not distributions(m) & core}
  assert not missing, f"Imported at module level but not in [project] dependencies: {missing}"


def test_every_function_level_import_is_declared_somewhere():
  declared = {normalized(r) for r in project()["dependencies"]}
  for extra in project()["optional-dependencies"].values():
    declared |= {normalized(r) for r in extra}
  missing = {m: distributions(m) for m in third_party_imports(("i2a", "envs", "launch"))
             if m not in UNDECLARED and not distributions(m) & declared}
  assert not missing, f"Imported but neither a dependency nor in an extra: {missing}"


def test_the_tests_need_only_the_test_extra():
  metadata = project()
  allowed = {normalized(r) for r in metadata["dependencies"] + metadata["optional-dependencies"]["test"]}
  test_files = {root: top for root, top in third_party_imports(("testing",)).items() if top}
  missing = {m: distributions(m) for m in test_files if not distributions(m) & allowed}
  assert not missing, f"The tests import packages outside the dependencies and the [test] extra: {missing}"


def test_requires_python_and_classifiers_agree():
  metadata = project()
  assert metadata["requires-python"] == ">=3.11,<3.14"
  minors = sorted(int(c.rsplit(".", 1)[1]) for c in metadata["classifiers"]
                  if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c))
  assert minors == [11, 12, 13]
  assert 11 <= sys.version_info.minor < 14 and sys.version_info.major == 3  # This machine is inside.


@pytest.mark.parametrize("requirement, expected", [("ray[default]==2.*", "ray"), ("dm_env", "dm-env"),
                                                   ("Tensorflow-Probability==0.25.*", "tensorflow-probability")])
def test_normalized(requirement, expected):
  assert normalized(requirement) == expected
