"""The project's import graph, read from source with `ast` (no module is imported): which of our modules
each module of envs/, i2a/ and launch/ imports, and the cycles among them.

Imports inside functions count as much as those at the top of a file: a function-level import is the
usual way to hide a cycle from Python's loader, and the cycle is still there for a reader (a module that
needs another needs it wherever the import statement sits). `testing/test_import_graph.py` checks that
the graph is acyclic; `testing/test_layout.py` checks the direction of its edges between packages.
"""
import ast
import os
from typing import Dict, List, Set, Tuple

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOTS = ("envs", "i2a", "launch")


def imports_of(path: str) -> List[Tuple[str, bool]]:
  """(imported dotted name, at module level?) for every import in the file at `path`.

  `from i2a.training import loop` gives 'i2a.training.loop' (a module, or a name inside one: see
  `resolve`); relative imports are resolved against the file's package.
  """
  with open(path) as f:
    tree = ast.parse(f.read(), path)
  top_level = {id(node) for node in tree.body}
  package = os.path.relpath(os.path.dirname(os.path.abspath(path)), REPO).replace(os.sep, ".")
  found = []
  for node in ast.walk(tree):
    if isinstance(node, ast.Import):
      found += [(alias.name, id(node) in top_level) for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
      base = node.module or ""
      if node.level:  # `from . import x` in package a.b: a.b.x; `from ..c import x`: a.c.x.
        parent = package.split(".")[:len(package.split(".")) - node.level + 1]
        base = ".".join(parent + ([base] if base else []))
      found += [(f"{base}.{alias.name}", id(node) in top_level) for alias in node.names]
  return found


def module_files() -> Dict[str, str]:
  """Dotted module name -> repository-relative path, for every module under ROOTS (a package is its
  __init__.py: 'i2a.training' -> 'i2a/training/__init__.py')."""
  modules = {}
  for root in ROOTS:
    for directory, _, names in os.walk(os.path.join(REPO, root)):
      for name in sorted(names):
        if name.endswith(".py"):
          relative = os.path.relpath(os.path.join(directory, name), REPO)
          dotted = relative[:-3].replace(os.sep, ".")
          modules[dotted[:-len(".__init__")] if dotted.endswith(".__init__") else dotted] = relative
  return modules


def resolve(name: str, modules: Set[str]) -> str:
  """The module among `modules` that the dotted `name` refers to: the longest prefix that is a module
  ('envs.minipacman.ghosts.choose_move' -> 'envs.minipacman.ghosts'); None for an external name."""
  parts = name.split(".")
  for end in range(len(parts), 0, -1):
    if ".".join(parts[:end]) in modules:
      return ".".join(parts[:end])
  return None


def graph() -> Dict[str, Set[str]]:
  """Module -> the project modules it imports (itself excluded), for every module under ROOTS."""
  files = module_files()
  edges = {}
  for module, path in files.items():
    targets = {resolve(name, set(files)) for name, _ in imports_of(os.path.join(REPO, path))}
    edges[module] = {t for t in targets if t is not None and t != module}
  return edges


def cycles(edges: Dict[str, Set[str]]) -> List[List[str]]:
  """One cycle per strongly connected component of more than one module, as a path that returns to its
  start (['a', 'b', 'a']); sorted, so that a failure message is stable. Tarjan's algorithm, iterative."""
  index, low, on_stack, stack, components = {}, {}, set(), [], []
  for start in sorted(edges):
    if start in index:
      continue
    work = [(start, iter(sorted(edges[start])))]
    index[start] = low[start] = len(index)
    stack.append(start)
    on_stack.add(start)
    while work:
      node, children = work[-1]
      child = next(children, None)
      if child is not None:
        if child not in index:
          index[child] = low[child] = len(index)
          stack.append(child)
          on_stack.add(child)
          work.append((child, iter(sorted(edges.get(child, ())))))
        elif child in on_stack:
          low[node] = min(low[node], index[child])
        continue
      work.pop()
      if work:
        low[work[-1][0]] = min(low[work[-1][0]], low[node])
      if low[node] == index[node]:
        component = set()
        while True:
          member = stack.pop()
          on_stack.discard(member)
          component.add(member)
          if member == node:
            break
        if len(component) > 1:
          components.append(component)
  return sorted(_path_through(component, edges) for component in components)


def _path_through(component: Set[str], edges: Dict[str, Set[str]]) -> List[str]:
  """A shortest cycle through the component's first module, by breadth-first search inside it."""
  start = min(component)
  previous, frontier = {start: None}, [start]
  while frontier:
    following = []
    for node in frontier:
      for child in sorted(edges[node] & component):
        if child == start:
          path = [node]
          while previous[path[-1]] is not None:
            path.append(previous[path[-1]])
          return path[::-1] + [start]
        if child not in previous:
          previous[child] = node
          following.append(child)
    frontier = following
  raise AssertionError(f"{sorted(component)} is not strongly connected.")
