"""Evaluation of a trained agent: Sokoban fraction of levels solved (per box count, paper Table 2, or
over a Boxoban directory), MiniPacman mean return per task (paper Sec. 5)."""
import dataclasses
from typing import Callable, Sequence

import dm_env
import numpy as np

from envs import batched
from i2a import games
from i2a.training import environments
from i2a.training import inference

Policy = Callable[[batched.BatchedTimeStep], np.ndarray]  # timestep -> int32 [N] actions.


def play(policy: Policy, env: batched.BatchedEnvironment, episodes_per_env: int
         ) -> tuple[np.ndarray, np.ndarray]:
  """Plays exactly `episodes_per_env` episodes in every copy (no bias toward short episodes).

  Returns:
    (returns float64 [N * k], terminal bool [N * k]); terminal = the episode ended with discount 0
    (in Sokoban: the level was solved).
  """
  n = env.num_envs
  timestep = env.reset()
  done = np.zeros(n, np.int64)
  running = np.zeros(n, np.float64)
  returns, terminal = [], []
  while done.min() < episodes_per_env:
    timestep = env.step(policy(timestep))
    running = np.where(timestep.step_type == dm_env.StepType.FIRST, 0.0, running + timestep.reward)
    last = timestep.step_type == dm_env.StepType.LAST
    for i in np.flatnonzero(last & (done < episodes_per_env)):
      returns.append(running[i])
      terminal.append(timestep.discount[i] == 0)
    done += last
  return np.array(returns), np.array(terminal)


def sokoban_generated(make_policy: Callable[[int], Policy], geometry: games.Geometry,
                      env_config: environments.EnvConfig, box_counts: Sequence[int], num_levels: int,
                      num_envs: int, seed: int) -> list[dict]:
  """One row per box count: the fraction of `num_levels` (rounded up to whole batches) newly generated
  levels of `geometry`'s rooms solved. `make_policy(n)` gives a fresh policy for n copies."""
  rows = []
  for boxes in box_counts:
    n = min(num_envs, num_levels)
    # Every evaluation level fresh and fixed by the seed: the level supply waits rather than replays.
    env = environments.build_env(geometry, dataclasses.replace(env_config, num_boxes=boxes, level_when_dry="wait"),
                                 n, seed=seed + 1000 * boxes)
    _, solved = play(make_policy(n), env, -(-num_levels // n))
    env.close()
    rows.append(dict(levels="generated", box_count=boxes, episodes=len(solved), solved=int(solved.sum()),
                     fraction_solved=float(solved.mean())))
  return rows


def sokoban_level_files(make_policy: Callable[[int], Policy], geometry: games.Geometry,
                        env_config: environments.EnvConfig, num_envs: int) -> list[dict]:
  """One row: the fraction of the Boxoban levels in `env_config.levels` solved, each played once."""
  from envs import sokoban  # pylint: disable=g-import-not-at-top
  room = geometry.room_size
  levels = environments.load_levels(env_config.levels, room, env_config.num_boxes)
  solved = []
  for start in range(0, len(levels), num_envs):
    env = batched.StackedEnvs([
        sokoban.BatchedSokoban(1, width=room, height=room, num_boxes=env_config.num_boxes,
                               max_steps=env_config.max_steps, pixels_per_cell=geometry.pixels_per_cell,
                               levels=[level], seed=0)
        for level in levels[start:start + num_envs]])
    solved.extend(play(make_policy(env.num_envs), env, 1)[1])
  return [dict(levels=env_config.levels, box_count=env_config.num_boxes, episodes=len(solved),
               solved=int(np.sum(solved)), fraction_solved=float(np.mean(solved)))]


def minipacman_tasks(make_policy: Callable[[int], Policy], env_config: environments.EnvConfig,
                     tasks: Sequence[str], episodes: int, num_envs: int, seed: int) -> list[dict]:
  """One row per task: mean and standard deviation of the return over `episodes` (rounded up to whole
  batches) episodes. The policy keeps its own task (an I2A's imagined rewards stay its training
  task's); only the environment's rewards change."""
  rows = []
  for task in tasks:
    if task not in games.MINIPACMAN_TASKS:
      raise ValueError(f"Unknown MiniPacman task {task!r}; expected one of {games.MINIPACMAN_TASKS}.")
    n = min(num_envs, episodes)
    env = environments.build_env(games.Geometry("minipacman", task), env_config, n, seed=seed)
    returns, _ = play(make_policy(n), env, -(-episodes // n))
    env.close()
    rows.append(dict(task=task, episodes=len(returns), mean_return=float(returns.mean()),
                     std_return=float(returns.std())))
  return rows


def agent_policies(agent, greedy: bool) -> Callable[[int], Policy]:
  """`make_policy` for the functions above: the agent acting in n copies, sampling or greedy."""
  return lambda n: inference.AgentActions(agent, n, greedy=greedy)
