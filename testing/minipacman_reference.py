"""A deliberately naive MiniPacman, written straight from the released game's rules, for tests.

Nothing here comes from envs/minipacman: the map is the released one as 0/1 text, positions are (row,
col) tuples, every frame is drawn from scratch, the ghost rule scores moves against a float unit vector,
and uniforms are drawn one at a time. Only the order of the random draws is shared with the game (see
envs/minipacman/game.py), so the two give the same episodes from the same seed and actions.
"""
import math

import numpy as np

RELEASED_MAP = """
1111111111111111111
1000100000000010001
1010101111111010101
1000000000000000001
1010101111111010101
1010000000000000101
1011110111110111101
1000000111110000001
1011110111110111101
1010000000000000101
1010101111111010101
1000000000000000001
1010101111111010101
1000100000000010001
1111111111111111111
""".split()
MOVES = ((0, 0), (0, 1), (-1, 0), (0, -1), (1, 0))  # stay, right, up, left, down.
OPPOSITE = {1: 3, 2: 4, 3: 1, 4: 2}
# (step, food, pill, ghost eaten, death) rewards; what ends a level; level timer.
TASKS = {
    "regular": ((0, 1, 2, 5, 0), "food", None),
    "avoid": ((0.1, -0.1, -5, -10, -20), "food", 128),
    "hunt": ((0, 0, 1, 10, -20), "ghosts", None),
    "ambush": ((0, -0.1, 0, 10, -20), "ghosts", None),
    "rush": ((0, -0.1, 10, 0, 0), "pills", None),
}


class NaiveMiniPacman:
  """One game; `reset()` and `step(action)` return (step_type, reward, discount, rgb, events)."""

  def __init__(self, task, seed, frame_cap=3000):
    self.weights, self.level_end, self.level_timer = TASKS[task]
    self.rng = np.random.default_rng(seed)
    self.frame_cap = frame_cap
    self.wall = [[ch == "1" for ch in row] for row in RELEASED_MAP]
    self.free = [(r, c) for r in range(15) for c in range(19) if not self.wall[r][c]]

  def pick(self, items):
    return items[int(self.rng.random() * len(items))]

  def new_level(self, level):
    self.level = level
    self.food = set(self.free)
    self.pills = [self.pick(self.free), self.pick(self.free)]
    self.pacman = self.pick(self.free)
    r, c = self.pacman
    allowed = [(gr, gc) for gr, gc in self.free
               if not (max(1, r - 5) <= gr <= r + 4 and max(1, c - 5) <= gc <= c + 4)]
    self.ghosts = []
    for _ in range(1 + (level - 1) // 2):
      cell = self.pick(allowed)
      self.ghosts.append([cell, self.pick([1, 2, 3, 4])])
    self.power, self.speed, self.timer = 0, 0.5 + 0.1 * (level - 1), 0

  def reset(self):
    self.frame = 0
    self.new_level(1)
    return 0, None, None, self.draw(), np.zeros(5, np.float32)

  def set_state(self, pacman, ghosts, food, pills, power, level, timer):
    """Replaces the state, as testing/minipacman_state.set_game_state does (ghosts: (row, col, dir))."""
    self.pacman, self.food, self.pills = tuple(pacman), set(map(tuple, food)), list(map(tuple, pills))
    self.ghosts = [[(g[0], g[1]), g[2]] for g in ghosts]
    self.power, self.level, self.timer = power, level, timer
    self.speed = 0.5 + 0.1 * (level - 1)
    return self.draw()

  def moved(self, cell, d):
    r, c = cell[0] + MOVES[d][0], cell[1] + MOVES[d][1]
    return cell if self.wall[r][c] else (r, c)

  def ghost_direction(self, cell, current):
    open_moves = [d for d in (1, 2, 3, 4) if self.moved(cell, d) != cell]
    if len(open_moves) == 1:
      return open_moves[0]
    if len(open_moves) == 2:
      if current in open_moves:
        return current
      return [d for d in open_moves if d != OPPOSITE[current]][0]
    options = [d for d in open_moves if d != OPPOSITE[current]]
    dr, dc = self.pacman[0] - cell[0], self.pacman[1] - cell[1]
    norm = math.sqrt(dr * dr + dc * dc)
    scores = [(MOVES[d][0] * dr + MOVES[d][1] * dc) / norm for d in options]
    if self.power > 0:
      return options[scores.index(min(scores))]
    if self.rng.random() < 0.05:
      return self.pick(options)
    return options[scores.index(max(scores))]

  def step(self, action):
    events = [1, 0, 0, 0, 0]
    self.frame += 1
    self.timer += 1
    self.power = max(0, self.power - 1)
    self.pacman = self.moved(self.pacman, action)
    if self.pacman in self.food:
      events[1] = 1
      self.food.remove(self.pacman)
      if not self.food and self.level_end == "food":
        self.new_level(self.level + 1)
    if self.pacman in self.pills:
      events[2] = 1
      self.pills.remove(self.pacman)
      self.power = 20
      if not self.pills and self.level_end == "pills":
        self.new_level(self.level + 1)
    for ghost in list(self.ghosts):
      if ghost[0] != self.pacman:
        speed = self.speed / 2 if self.power > 0 else self.speed
        if self.rng.random() >= speed:
          continue
        ghost[1] = self.ghost_direction(ghost[0], ghost[1])
        ghost[0] = self.moved(ghost[0], ghost[1])
        if ghost[0] != self.pacman:
          continue
      if self.power == 0:
        events[4] = 1
      else:
        events[3] = 1
        self.ghosts.remove(ghost)
        if not self.ghosts and self.level_end == "ghosts":
          self.new_level(self.level + 1)
        break
    rgb = self.draw()
    if self.timer == self.level_timer:
      self.new_level(self.level + 1)
    done = events[4] == 1 or self.frame == self.frame_cap
    reward = float(np.dot(np.float32(self.weights), np.float32(events)))
    return 2 if done else 1, reward, 0.0 if done else 1.0, rgb, np.float32(events)

  def draw(self):
    """Painted back to front: walls, food, pills, ghosts, then Pacman on top."""
    rgb = np.zeros((15, 19, 3))
    rgb[np.array(self.wall)] = (1, 1, 1)
    for layer, colour in ((self.food, (0, 0, 1)), (self.pills, (0, 1, 1)),
                          ([g[0] for g in self.ghosts], (1, self.power / 20, 0)), ([self.pacman], (0, 1, 0))):
      if layer:
        rows, cols = zip(*layer)
        rgb[list(rows), list(cols)] = colour
    return np.floor(255 * rgb + 0.5).astype(np.uint8)
