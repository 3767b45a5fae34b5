"""How well can any model predict each MiniPacman event at the 0.5 threshold, even one that knows the full
game state (ghost headings included, which a frame does not show)? results/README.md section 2.

For each state reached by the scripted ghost hunter and by uniformly random play (N steps each, task
'regular'), the step with the action actually taken is replayed from 200 copies of the game, each with
fresh random numbers; the fraction of copies in which an event happens is its exact probability up to
Monte Carlo error. Predicting the event when that probability is above 0.5 is the best any model can do
at that threshold; its precision and recall against what really happened bound every model's.

    python results/minipacman_events/full_state_bound.py 6000 /tmp/bound.npz   # from the repository root
    python results/minipacman_events/full_state_bound.py 6000 /tmp/blind.npz heading_blind

With `heading_blind`, each copy also draws every ghost's heading uniformly from the 4 moves: the state a
single frame shows (the paper's MiniPacman model reads one frame and the action, Fig. 7), with the
headings it hides made up. That is an estimate of what a one-frame model can reach, not a strict bound
(the headings a frame leaves possible are not uniformly likely).

A diagnostic that reads the game's private state (envs/minipacman/game.py), not part of the library.
"""
import copy
import sys

import numpy as np

sys.path.insert(0, ".")
from envs import batched  # pylint: disable=g-import-not-at-top
from envs import minipacman
from envs.minipacman import env as env_lib
from envs.minipacman import tasks
from i2a.model_pipeline import hunter

CLONES = 200


def clone(env, seed, heading_blind=False):
  """A copy of the env's game drawing into its own frame, drawing fresh random numbers from `seed`; with
  `heading_blind`, each ghost's heading drawn uniformly from the 4 moves (1..4) too."""
  game = env._game  # pylint: disable=protected-access
  copied = copy.copy(game)
  frame = env._frame.copy()  # pylint: disable=protected-access
  copied._mv = memoryview(frame.reshape(-1))  # pylint: disable=protected-access
  copied._kind = bytearray(game._kind)  # pylint: disable=protected-access
  copied._pills = list(game._pills)  # pylint: disable=protected-access
  copied._ghost_cells = list(game._ghost_cells)  # pylint: disable=protected-access
  copied._ghost_headings = list(game._ghost_headings)  # pylint: disable=protected-access
  rng = np.random.default_rng(seed)
  if heading_blind:
    copied._ghost_headings = [int(h) for h in rng.integers(1, 5, len(game._ghost_headings))]  # pylint: disable=protected-access
  copied.reseed(rng)
  return copied


def events_of(code):
  return np.array([1, code & tasks.CODE_FOOD != 0, code & tasks.CODE_PILL != 0,
                   code & tasks.CODE_GHOST != 0, code & tasks.CODE_KILLED != 0], float)


def main(steps, out, heading_blind=False):
  probs, events = [], []
  for policy in (hunter.GhostHunter(1), None):
    env, rng = env_lib.MiniPacman("regular", seed=3), np.random.default_rng(5)
    timestep = env.reset()
    for t in range(steps):
      if policy is None:
        action = int(rng.integers(minipacman.NUM_ACTIONS))
      else:
        action = int(policy(batched.BatchedTimeStep(np.array([timestep.step_type]), np.zeros(1), np.ones(1),
                                                    {"rgb": timestep.observation["rgb"][None]}))[0])
      probs.append(np.mean([events_of(clone(env, 1000 * t + k, heading_blind).step(action)) for k in range(CLONES)], axis=0))
      timestep = env.step(action)
      events.append(timestep.observation["events"].astype(float))
      if timestep.last():
        timestep = env.reset()
  probs, events = np.array(probs), np.array(events)
  np.savez(out, probs=probs, events=events)
  for i, name in enumerate(minipacman.EVENT_NAMES):
    predicted, actual = probs[:, i] > 0.5, events[:, i] > 0.5
    hits = (predicted & actual).sum()
    print(f"{name:16s} events {actual.sum():5d}  precision {hits / max(predicted.sum(), 1):.3f}  "
          f"recall {hits / max(actual.sum(), 1):.3f}")


if __name__ == "__main__":
  main(int(sys.argv[1]), sys.argv[2], sys.argv[3:] == ["heading_blind"])
