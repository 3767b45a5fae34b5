r"""Statistics of uniformly random play in MiniPacman, per task: a fixed yardstick for the game's rules.

  python -m launch.minipacman_random_play --episodes=200 --seed=0

For each task, plays `--episodes` episodes with actions drawn uniformly from the 5 actions and prints
the mean episode length and mean return (each with its standard error), the median length (random play
now and then survives to the frame cap, e.g. once no ghost is left, which moves the means), the mean
number of levels completed per episode, and how many episodes ended by death rather than by the frame
cap. Each task's environment and action stream are seeded from `SeedSequence([seed, task index])`, so
a run is reproducible; two versions of the game played with the same flags show how a rule change
moves these figures.
"""
from typing import NamedTuple

from absl import app
from absl import flags
import numpy as np

from envs import minipacman
from launch import common_flags

# Shared flags (launch/common_flags.py) and this binary's defaults for them: --episodes per task, the
# --seed of the environments and of the random actions (the flag's own default, 0), and the --frame_cap
# (steps per episode: the game's).
DEFAULTS = dict(episodes=200, frame_cap=minipacman.FRAME_CAP)
common_flags.define("episodes", "seed", "frame_cap")
_TASKS = flags.DEFINE_list("tasks", list(minipacman.TASKS), "Tasks to play.")
flags.register_validator("tasks", lambda tasks: set(tasks) <= set(minipacman.TASKS),
                         f"--tasks must be a comma-separated list of {', '.join(minipacman.TASKS)}.")


class Stats(NamedTuple):
  task: str
  lengths: np.ndarray  # int [E], steps per episode.
  returns: np.ndarray  # float64 [E], undiscounted return per episode.
  levels: np.ndarray  # int [E], levels completed per episode.
  deaths: int  # Episodes that ended with Pacman eaten.


def play(task: str, episodes: int, seed: int, frame_cap: int) -> Stats:
  """Plays `episodes` uniformly random episodes of `task` in one seeded environment."""
  env_seed, action_seed = np.random.SeedSequence([seed, minipacman.TASKS.index(task)]).spawn(2)
  env = minipacman.MiniPacman(task=task, seed=env_seed, frame_cap=frame_cap)
  actions = np.random.default_rng(action_seed)
  lengths, returns, levels, deaths = [], [], [], 0
  for _ in range(episodes):
    env.reset()
    length, total = 0, 0.0
    while True:
      ts = env.step(int(actions.integers(minipacman.NUM_ACTIONS)))
      length += 1
      total += float(ts.reward)
      if ts.last():
        break
    deaths += bool(ts.observation["events"][-1])  # The last event is 'killed by a ghost'.
    lengths.append(length)
    returns.append(total)
    levels.append(env.game.level - 1)
  return Stats(task, np.array(lengths), np.array(returns), np.array(levels), deaths)


def _mean_se(x: np.ndarray) -> str:
  se = x.std(ddof=1) / np.sqrt(len(x)) if len(x) > 1 else 0.0
  return f"{x.mean():9.2f} +- {se:6.2f}"


def settings(fv: flags.FlagValues):
  """The flags this binary reads, with its own defaults (DEFAULTS) for the shared ones not given."""
  return common_flags.settings(fv, DEFAULTS, ("episodes", "seed", "frame_cap", "tasks"))


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  fv = settings(flags.FLAGS)
  if fv.episodes < 1 or fv.seed < 0:
    raise app.UsageError(f"--episodes={fv.episodes} --seed={fv.seed}: give at least 1 episode and a seed >= 0.")
  print(f"uniformly random play, {fv.episodes} episodes per task, seed {fv.seed}, frame cap {fv.frame_cap}")
  print(f"{'task':<8} {'mean length':>19} {'median':>7} {'mean return':>19} {'levels done':>12} "
        f"{'deaths':>7}")
  for task in fv.tasks:
    s = play(task, fv.episodes, fv.seed, fv.frame_cap)
    print(f"{task:<8} {_mean_se(s.lengths):>19} {np.median(s.lengths):7.1f} {_mean_se(s.returns):>19} "
          f"{s.levels.mean():12.3f} {s.deaths:>7}", flush=True)


if __name__ == "__main__":
  app.run(main)
