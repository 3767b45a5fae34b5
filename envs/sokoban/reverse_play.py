"""Phase 3 of the Sokoban level generator (paper App. D.4): reverse play from the solved room.

D.4 runs a depth-first search over reverse moves (walk, or walk while pulling an adjacent box) from
the room with every box on its target, visiting actions in random order, and returns the visited room
with the best RoomScore = BoxSwaps x (sum over boxes of the Manhattan distance from the box to its own
target), a room with any box on a target scoring 0.

Speed (our change of search graph, not of the rooms reachable): the search runs over *pulls*. A state
is (box cells, region the player can walk to); a pure walk never changes the score and only moves the
player inside that region, so walks are folded into the region and every edge of the search is one
pull. Two move-graph states that differ only by where the player stands in the same region are one
state here, which removes the bulk of the move graph's states. Every pulled room is solvable: replaying
the pulls backwards as pushes (with walks inside the regions in between) solves it.
"""
import dataclasses
import random

from envs.sokoban import bitboard


@dataclasses.dataclass(frozen=True)
class ReversePlayResult:
  """The best room found by reverse play.

  Attributes:
    score: its RoomScore (0 if no visited room had every box off the targets and a swap).
    player: cell index of the player in that room (where the last pull left it).
    boxes: cell index of each box, in the order of the targets it started on.
    num_pulls: depth of that room in the search (pulls from the solved room along the search path).
    box_swaps: its BoxSwaps.
    states_visited: number of distinct (boxes, player region) states expanded.
  """
  score: int
  player: int
  boxes: tuple[int, ...]
  num_pulls: int
  box_swaps: int
  states_visited: int


def reverse_play(board: bitboard.Board, targets: list[int], player: int, max_depth: int,
                 max_states: int, seed: int) -> ReversePlayResult:
  """Depth-first reverse play over pulls, actions in random order (App. D.4).

  BoxSwaps counts the pulls whose box differs from the box of the previous pull on the search path;
  the first pull counts as one (our reading of D.4, so a single-box room scores its displacement).

  Args:
    board: walls as `board.floor` (targets are given separately here).
    targets: cell index of each target; box i starts on targets[i].
    player: the player's starting cell (not a target).
    max_depth: deepest search path, in pulls.
    max_states: stop after expanding this many distinct states.
    seed: seed of the Python RNG that orders the successors (the search is deterministic given it).

  Returns:
    The best-scoring room visited (the solved start room with score 0 if nothing scored).
  """
  uniform = random.Random(seed).random
  width = board.width
  floor = board.floor
  target_mask = 0
  for t in targets:
    target_mask |= 1 << t
  row_of = [cell // width for cell in range(board.height * width)]
  col_of = [cell % width for cell in range(board.height * width)]
  target_rc = [(row_of[t], col_of[t]) for t in targets]
  offsets = (-width, width, -1, 1)
  visited = set()
  best = (0, player, tuple(targets), 0, 0)
  # Stack entries: (player cell, box cells by identity, box mask, depth, box swaps, last box pulled).
  stack = [(player, tuple(targets), target_mask, 0, 0, -1)]
  while stack and len(visited) < max_states:
    player, boxes, box_mask, depth, swaps, last = stack.pop()
    reach = bitboard.flood(player, floor & ~box_mask, width)
    key = (box_mask, reach)
    if key in visited:
      continue
    visited.add(key)
    if swaps and not box_mask & target_mask:
      displacement = 0
      for box, (t_row, t_col) in zip(boxes, target_rc):
        displacement += abs(row_of[box] - t_row) + abs(col_of[box] - t_col)
      score = swaps * displacement
      if score > best[0]:
        best = (score, player, boxes, depth, swaps)
    if depth >= max_depth:
      continue
    children = []
    for index, box in enumerate(boxes):
      for offset in offsets:
        stand = box + offset  # the player stands here, then steps on to `stand + offset`, pulling.
        if reach >> stand & 1 and reach >> (stand + offset) & 1:
          moved = boxes[:index] + (stand,) + boxes[index + 1:]
          children.append((stand + offset, moved, box_mask ^ (1 << box) ^ (1 << stand), depth + 1,
                           swaps + (index != last), index))
    for i in range(len(children) - 1, 0, -1):  # Fisher-Yates with the fast C `random()`.
      j = int(uniform() * (i + 1))
      children[i], children[j] = children[j], children[i]
    stack.extend(children)
  score, player, boxes, depth, swaps = best
  return ReversePlayResult(score=score, player=player, boxes=boxes, num_pulls=depth, box_swaps=swaps,
                           states_visited=len(visited))
