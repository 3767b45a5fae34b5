"""Every public constructor documents its arguments (Sonnet's convention; issue "a house a newcomer can
read"): a class whose `__init__` takes arguments has an `Args:` (or, for dataclass-like records,
`Attributes:`) section naming each of them. Read from the source with `ast`, so nothing is imported."""
import ast
import glob
import os
import re
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCES = sorted(os.path.relpath(p, REPO) for folder in ("i2a", "envs")
                 for p in glob.glob(os.path.join(REPO, folder, "**", "*.py"), recursive=True))


def undocumented(path: str) -> list[str]:
  """'Class.argument' for every constructor argument the class's docstrings do not name."""
  with open(os.path.join(REPO, path)) as f:
    tree = ast.parse(f.read())
  missing = []
  for node in tree.body:
    if not isinstance(node, ast.ClassDef) or node.name.startswith("_"):
      continue
    init = next((m for m in node.body if isinstance(m, ast.FunctionDef) and m.name == "__init__"), None)
    if init is None:
      continue
    args = [a.arg for a in init.args.args[1:] + init.args.kwonlyargs]
    doc = (ast.get_docstring(node) or "") + "\n" + (ast.get_docstring(init) or "")
    if args and not re.search(r"^\s*(Args|Attributes):", doc, re.MULTILINE):
      missing.append(f"{node.name}: no Args section")
    missing += [f"{node.name}.{a}" for a in args if not re.search(rf"\b{a}\b", doc)]
  return missing


def test_the_checker_sees_a_missing_argument(tmp_path, monkeypatch):
  (tmp_path / "m.py").write_text('class A:\n  """Args:\n    x: one.\n  """\n\n  def __init__(self, x, y):\n'
                                 '    pass\n\n\nclass B:\n  """No section."""\n\n  def __init__(self, z):\n'
                                 '    pass\n')
  monkeypatch.setattr(sys.modules[__name__], "REPO", str(tmp_path))
  assert undocumented("m.py") == ["A.y", "B: no Args section", "B.z"]


@pytest.mark.parametrize("path", SOURCES)
def test_public_constructors_document_every_argument(path):
  assert not undocumented(path), f"{path}: document these constructor arguments: {undocumented(path)}"
