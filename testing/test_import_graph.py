"""No import cycle among the modules of envs/, i2a/ and launch/ (issue 21, part 4: each file one job).

A cycle means two modules that cannot be read, tested or moved apart. Imports inside functions count
(testing/import_graph.py says why).
"""
import pytest

from testing import import_graph


def test_the_project_has_no_import_cycle():
  found = import_graph.cycles(import_graph.graph())
  assert not found, "Import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in found)


@pytest.mark.parametrize("edges, expected", [
    ("no_cycle", []),
    ("two_modules", [["a", "b", "a"]]),
    ("three_modules_and_a_tail", [["a", "b", "c", "a"]]),
    ("two_separate_cycles", [["a", "b", "a"], ["x", "y", "x"]]),
    ("shortest_of_two", [["a", "c", "a"]]),
])
def test_cycles_finds_each_cycle_once(edges, expected):
  graphs = {
      "no_cycle": {"a": {"b", "c"}, "b": {"c"}, "c": set()},
      "two_modules": {"a": {"b"}, "b": {"a"}},
      "three_modules_and_a_tail": {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set()},
      "two_separate_cycles": {"a": {"b"}, "b": {"a"}, "x": {"y"}, "y": {"x", "a"}},
      "shortest_of_two": {"a": {"b", "c"}, "b": {"d"}, "c": {"a"}, "d": {"a"}},
  }
  assert import_graph.cycles(graphs[edges]) == expected


def test_the_reader_resolves_every_import_form(tmp_path, monkeypatch):
  package = tmp_path / "envs" / "pkg"
  package.mkdir(parents=True)
  (tmp_path / "envs" / "__init__.py").write_text("")
  (package / "__init__.py").write_text("from envs.pkg import a\n")
  (package / "a.py").write_text("import os\nfrom envs.pkg.b import thing\n")
  (package / "b.py").write_text("def f():\n  from . import c\n")
  (package / "c.py").write_text("import envs.pkg.a as a_lib\n")
  monkeypatch.setattr(import_graph, "REPO", str(tmp_path))
  monkeypatch.setattr(import_graph, "ROOTS", ("envs",))
  assert import_graph.graph() == {"envs": set(), "envs.pkg": {"envs.pkg.a"}, "envs.pkg.a": {"envs.pkg.b"},
                                  "envs.pkg.b": {"envs.pkg.c"}, "envs.pkg.c": {"envs.pkg.a"}}
  assert import_graph.cycles(import_graph.graph()) == [["envs.pkg.a", "envs.pkg.b", "envs.pkg.c", "envs.pkg.a"]]


def test_the_real_graph_has_known_edges():
  edges = import_graph.graph()
  # The reader sees top-level and function-level imports of the real tree: launch.train drives the
  # training loop, and the study runner imports the run summaries inside a function.
  assert "i2a.training.loop" in edges["launch.train"]
  assert "i2a.reporting.run_summary" in edges["i2a.study.runner"]
