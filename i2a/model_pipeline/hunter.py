"""A scripted MiniPacman policy that eats power pills and then chases the edible ghosts, reading only the
frame: one source of a data mixture (`mixture.py`) that makes eaten ghosts common.

Why: a model-free agent trained on this machine's budget (300k frames) does not leave random play
(results/README.md section 2), and random play eats a ghost in about 1 of 6,000 steps, so neither gives
the environment model enough eaten ghosts to learn the event Hunt and Ambush pay for (paper Sec. 5).
This policy is not the paper's (which used a partially trained agent, paper Sec. 3.2); it is a data
source for the one shared model (WORKSPACE.md, deviation 46).

Per copy and step: with probability `epsilon` a uniformly random action; otherwise the first move of a
shortest maze path to the nearest edible ghost if there is one, else to the nearest power pill, else to
the nearest food, else a random action. Colours are the released game's (envs/minipacman/maze.py):
Pacman (0, 255, 0), a ghost (255, g, 0) with g > 0 while edible, a pill (0, 255, 255), food (0, 0, 255).
"""
import collections

import numpy as np

from envs import batched
from envs import minipacman

_FREE = np.array([[c != "#" for c in row] for row in minipacman.STANDARD_MAP])
_DELTAS = ((0, 0), (0, 1), (-1, 0), (0, -1), (1, 0))  # stay, right, up, left, down (maze.DELTAS).


def _targets(frame: np.ndarray) -> tuple[tuple[int, int] | None, list[list[tuple[int, int]]]]:
  """Pacman's cell and the target cells by priority (edible ghosts, pills, food) of one uint8
  [H, W, 3] frame."""
  r, g, b = (frame[..., i].astype(int) for i in range(3))
  pac = np.argwhere((r == 0) & (g == 255) & (b == 0))
  edible = np.argwhere((r == 255) & (g > 0) & (b == 0))
  pills = np.argwhere((r == 0) & (g == 255) & (b == 255))
  food = np.argwhere((r == 0) & (g == 0) & (b == 255))
  cells = [[tuple(int(x) for x in c) for c in group] for group in (edible, pills, food)]
  return (tuple(int(x) for x in pac[0]) if len(pac) else None), cells


def first_move(start: tuple[int, int], goals: set) -> int | None:
  """The action of the first step of a shortest path from `start` to any cell of `goals` through free
  cells (breadth-first; ties go to the action listed first), or None if no goal is reachable."""
  if start in goals:
    return 0
  first = {start: None}
  queue = collections.deque([start])
  while queue:
    cell = queue.popleft()
    for action in range(1, len(_DELTAS)):
      nxt = (cell[0] + _DELTAS[action][0], cell[1] + _DELTAS[action][1])
      inside = 0 <= nxt[0] < _FREE.shape[0] and 0 <= nxt[1] < _FREE.shape[1]
      if nxt in first or not inside or not _FREE[nxt]:
        continue
      first[nxt] = action if first[cell] is None else first[cell]
      if nxt in goals:
        return first[nxt]
      queue.append(nxt)
  return None


class GhostHunter:
  """timestep of N MiniPacman copies -> int32 [N] actions (module docstring).

  Args:
    seed: seeds the random actions.
    epsilon: probability of a uniformly random action, so the data also holds other moves.
  """

  def __init__(self, seed: int, epsilon: float = 0.1):
    if not 0.0 <= epsilon <= 1.0:
      raise ValueError(f"GhostHunter epsilon must be in [0, 1], got {epsilon}.")
    self._rng, self._epsilon = np.random.default_rng(seed), epsilon

  def __call__(self, timestep: batched.BatchedTimeStep) -> np.ndarray:
    frames = timestep.observation["rgb"]
    actions = self._rng.integers(len(_DELTAS), size=len(frames)).astype(np.int32)
    explore = self._rng.random(len(frames)) < self._epsilon
    for i, frame in enumerate(frames):
      if explore[i]:
        continue
      pac, groups = _targets(frame)
      for goals in groups:
        move = first_move(pac, set(goals)) if pac is not None and goals else None
        if move is not None:
          actions[i] = move
          break
    return actions
