r"""Evaluates a trained agent: Sokoban fraction of levels solved, MiniPacman mean return per task.

Takes the same flags as launch/train.py (so the experiment's flag file rebuilds the agent) and loads the
newest checkpoint of --logdir:

  python -m launch.evaluate --flagfile=launch/configs/sokoban_i2a_depth5.flags --num_levels=1000 \
      --box_counts=1,2,3,4,5,6,7 --output_dir=eval/i2a5       # Paper Table 2: solved per box count.
  python -m launch.evaluate --logdir=runs/default --levels=/path/to/boxoban/test   # Each level once.
  python -m launch.evaluate --flagfile=launch/configs/minipacman_i2a_hunt.flags --episodes=100

Writes results.json and results.csv to --output_dir.
"""
import csv
import dataclasses
import json
import os
from typing import Sequence

from absl import app
from absl import flags
from absl import logging
import numpy as np

from envs import batched
from i2a import actor as actor_lib
from i2a import env_factory
from i2a import games
from i2a import training
from launch import train as train_flags

_NUM_LEVELS = flags.DEFINE_integer("num_levels", 200, "Sokoban: generated levels per box count.")
_BOX_COUNTS = flags.DEFINE_list("box_counts", [], "Sokoban box counts to test; default: --num_boxes.")
_EPISODES = flags.DEFINE_integer("episodes", 50, "MiniPacman: episodes per task.")
_EVAL_TASKS = flags.DEFINE_list("eval_tasks", [], "MiniPacman tasks to play; default: --task.")
_NUM_ENVS = flags.DEFINE_integer("eval_envs", 50, "Environment copies stepped together.")
_EVAL_SEED = flags.DEFINE_integer("eval_seed", 123_456, "Seed of the evaluation levels and ghosts.")
_GREEDY = flags.DEFINE_boolean("greedy", False, "Act by argmax instead of sampling the policy.")
_OUTPUT_DIR = flags.DEFINE_string("output_dir", None, "Where to write results; default: <logdir>/eval.")


class StackedEnvs(batched.BatchedEnvironment):
  """Single-copy batched environments side by side, e.g. one per Boxoban level so each is played once."""

  def __init__(self, envs: Sequence[batched.BatchedEnvironment]):
    self._envs = list(envs)

  @property
  def num_envs(self) -> int:
    return len(self._envs)

  @property
  def num_actions(self) -> int:
    return self._envs[0].num_actions

  @staticmethod
  def _stack(steps) -> batched.BatchedTimeStep:
    return batched.BatchedTimeStep(*(np.concatenate([getattr(s, f) for s in steps]) for f in
                                     ("step_type", "reward", "discount")),
                                   {"rgb": np.concatenate([s.observation["rgb"] for s in steps])})

  def reset(self) -> batched.BatchedTimeStep:
    return self._stack([env.reset() for env in self._envs])

  def step(self, actions: np.ndarray) -> batched.BatchedTimeStep:
    return self._stack([env.step(actions[i:i + 1]) for i, env in enumerate(self._envs)])


def play(agent, env: batched.BatchedEnvironment, episodes_per_env: int,
         greedy: bool) -> tuple[np.ndarray, np.ndarray]:
  """Plays exactly `episodes_per_env` episodes in every copy (no bias toward short episodes).

  Returns:
    (returns float64 [N * k], terminal bool [N * k]); terminal = the episode ended with discount 0.
  """
  n = env.num_envs
  policy = actor_lib.Actor(agent, env, unroll_length=1)  # Only its batched policy step is used.
  timestep, state = env.reset(), agent.initial_state(n).numpy()
  done = np.zeros(n, np.int64)
  running = np.zeros(n, np.float64)
  returns, terminal = [], []
  while done.min() < episodes_per_env:
    output, state = policy.act(timestep, state)
    action = np.argmax(output.policy_logits, axis=-1).astype(np.int32) if greedy else output.action
    timestep = env.step(action)
    first = timestep.step_type == actor_lib.FIRST
    running = np.where(first, 0.0, running + timestep.reward)
    for i in np.flatnonzero((timestep.step_type == actor_lib.LAST) & (done < episodes_per_env)):
      returns.append(running[i])
      terminal.append(timestep.discount[i] == 0)
    done += timestep.step_type == actor_lib.LAST
  return np.array(returns), np.array(terminal)


def evaluate(config: training.TrainConfig) -> list[dict]:
  """The result rows for the flags' evaluation settings (one per box count or per task)."""
  learner, checkpointer = training.build_learner(config)
  if not checkpointer.restore_latest():
    raise ValueError(f"No checkpoint in {checkpointer.directory!r}; train first (--logdir).")
  step, agent, greedy, rows = int(learner.learner_step.numpy()), learner.agent, _GREEDY.value, []
  env_cfg, seed = config.env, _EVAL_SEED.value
  if env_cfg.game == "sokoban" and env_cfg.levels is not None:
    levels = env_factory.load_levels(env_cfg.levels, env_cfg.room_size, env_cfg.num_boxes)
    solved = []
    for start in range(0, len(levels), _NUM_ENVS.value):
      env = StackedEnvs([_one_level_env(env_cfg, level) for level in levels[start:start + _NUM_ENVS.value]])
      solved.extend(play(agent, env, 1, greedy)[1])
    rows.append(dict(levels=env_cfg.levels, box_count=env_cfg.num_boxes, episodes=len(solved),
                     solved=int(np.sum(solved)), fraction_solved=float(np.mean(solved))))
  elif env_cfg.game == "sokoban":
    for boxes in [int(b) for b in _BOX_COUNTS.value] or [env_cfg.num_boxes]:
      num_envs = min(_NUM_ENVS.value, _NUM_LEVELS.value)
      per_env = -(-_NUM_LEVELS.value // num_envs)
      # Every evaluation level fresh and fixed by the seed: the level supply waits rather than replays.
      env = env_factory.build_env(dataclasses.replace(env_cfg, num_boxes=boxes, level_when_dry="wait"),
                                  num_envs, seed=seed + 1000 * boxes)
      _, solved = play(agent, env, per_env, greedy)
      env.close()
      rows.append(dict(levels="generated", box_count=boxes, episodes=len(solved), solved=int(solved.sum()),
                       fraction_solved=float(solved.mean())))
  else:
    for task in _EVAL_TASKS.value or [env_cfg.task]:
      if task not in games.MINIPACMAN_TASKS:
        raise ValueError(f"--eval_tasks: unknown task {task!r}; expected one of {games.MINIPACMAN_TASKS}.")
      num_envs = min(_NUM_ENVS.value, _EPISODES.value)
      env = env_factory.build_env(dataclasses.replace(env_cfg, task=task), num_envs, seed=seed)
      returns, _ = play(agent, env, -(-_EPISODES.value // num_envs), greedy)
      rows.append(dict(task=task, episodes=len(returns), mean_return=float(returns.mean()),
                       std_return=float(returns.std())))
  for row in rows:
    row.update(learner_step=step, num_frames=int(learner.num_frames.numpy()), greedy=greedy)
  return rows


def _one_level_env(config: env_factory.EnvConfig, level: np.ndarray) -> batched.BatchedEnvironment:
  from envs import sokoban  # pylint: disable=g-import-not-at-top
  return sokoban.BatchedSokoban(1, width=config.room_size, height=config.room_size,
                                num_boxes=config.num_boxes, max_steps=config.max_steps,
                                pixels_per_cell=config.pixels_per_cell, levels=[level], seed=0)


def write_results(rows: list[dict], output_dir: str) -> None:
  os.makedirs(output_dir, exist_ok=True)
  with open(os.path.join(output_dir, "results.json"), "w") as f:
    json.dump(rows, f, indent=2)
  with open(os.path.join(output_dir, "results.csv"), "w", newline="") as f:
    writer = csv.DictWriter(f, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)


def main(argv):
  del argv
  try:
    config = train_flags.config_from_flags()
    train_flags.check_paths(config)
    rows = evaluate(config)
  except ValueError as e:
    raise app.UsageError(str(e)) from e
  for row in rows:
    logging.info("%s", row)
  write_results(rows, _OUTPUT_DIR.value or os.path.join(config.logdir, "eval"))


if __name__ == "__main__":
  app.run(main)
