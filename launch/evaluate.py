r"""Evaluates a trained agent: Sokoban fraction of levels solved, MiniPacman mean return per task.

Takes the experiment flags of launch.train (launch/common_flags.py), so the experiment's flag file
rebuilds the agent, and loads the newest checkpoint of --logdir without building a learner:

  python -m launch.evaluate --flagfile=launch/configs/sokoban_i2a_depth5.flags --num_levels=1000 \
      --box_counts=1,2,3,4,5,6,7 --output_dir=eval/i2a5       # Paper Table 2: solved per box count.
  python -m launch.evaluate --flagfile=launch/configs/sokoban_i2a_depth5.flags --outer_search \
      --num_levels=250                                # Paper Table 1: I2A + outer MC search.
  python -m launch.evaluate --logdir=runs/default --levels=/path/to/boxoban/test   # Each level once.
  python -m launch.evaluate --flagfile=launch/configs/minipacman_i2a_hunt.flags --episodes=100

The agent is rebuilt from the config launch.train stored in --logdir (config.json) when there is one,
so `--logdir=<run>` alone evaluates any run; experiment flags given explicitly must agree with it
(--levels may differ: evaluate on other levels). --seed seeds the evaluation levels, ghosts and the
agent's action sampling (default 123456: other levels than a training run's seed 0). Writes
results.json and results.csv to --output_dir, which is checked for writability before anything is played.
"""
import csv
import dataclasses
import json
import os

from absl import app
from absl import flags
from absl import logging

from i2a.planning import search_models
from i2a.training import checkpointing
from i2a.training import environments
from i2a.training import evaluation
from i2a.training import inference
from i2a.training import rundir
from i2a.training import train_config
from launch import common_flags
from launch import config_flags
from launch import flags_to_config

# This binary's defaults for shared flags: the levels and ghosts are seeded apart from training's seed 0;
# generated Sokoban levels per box count; MiniPacman episodes per task; environment copies.
DEFAULTS = dict(seed=123_456, num_levels=200, episodes=50, num_envs=50)
config_flags.define()
common_flags.define("num_levels", "episodes", "num_envs", "output_dir")
_BOX_COUNTS = flags.DEFINE_list("box_counts", [], "Sokoban box counts to test; default: --num_boxes.")
_EVAL_TASKS = flags.DEFINE_list("eval_tasks", [], "MiniPacman tasks to play; default: --task.")
_GREEDY = flags.DEFINE_boolean("greedy", False, "Act by argmax instead of sampling the policy.")
_OUTER_SEARCH = flags.DEFINE_boolean("outer_search", False, "Sokoban: I2A with an outer Monte Carlo search "
                                     "(paper Sec. 4.3, Table 1): imagine whole episodes, execute a plan "
                                     "the model says solves the level; reports model steps per level.")
_MAX_RETRIES = flags.DEFINE_integer("max_retries", 10, "Outer search: imagined episodes per level at most "
                                    "(paper: 10).", lower_bound=1)
_PERFECT_MODEL = flags.DEFINE_boolean("perfect_model", False, "Outer search: imagine with the real "
                                      "simulator instead of the agent's environment model.")


def settings(fv: flags.FlagValues):
  """This binary's own settings, with its defaults for the shared flags not given (output_dir unset:
  <logdir>/eval)."""
  return common_flags.settings(fv, DEFAULTS, (*DEFAULTS, "output_dir", "box_counts", "eval_tasks", "greedy"))


def evaluate(config: train_config.TrainConfig) -> list[dict]:
  """The result rows for the flags' evaluation settings (one per box count or per task); `config.seed`
  seeds the levels, the ghosts and the agent's sampling."""
  own = settings(flags.FLAGS)
  restored = inference.restore_agent(config.agent, config.logdir, seed=config.seed,
                                     discount=config.learner.discount)
  make_policy = evaluation.agent_policies(restored.agent, _GREEDY.value)
  geometry, env_config, num_envs = config.geometry, config.env, own.num_envs
  if _OUTER_SEARCH.value:
    if geometry.game != "sokoban":
      raise ValueError("--outer_search is the paper's Sokoban experiment (Table 1); use --game=sokoban.")
    levels = None if env_config.levels is None else environments.load_levels(
        env_config.levels, geometry.room_size, env_config.num_boxes)
    rows = [search_models.evaluate_agent(
        restored.agent, own.num_levels, geometry.room_size, env_config.num_boxes, geometry.pixels_per_cell,
        env_config.max_steps, _MAX_RETRIES.value, levels, _PERFECT_MODEL.value, _GREEDY.value, config.seed)]
  elif geometry.game == "sokoban" and env_config.levels is not None:
    rows = evaluation.sokoban_level_files(make_policy, geometry, env_config, num_envs)
  elif geometry.game == "sokoban":
    box_counts = [int(b) for b in _BOX_COUNTS.value] or [env_config.num_boxes]
    rows = evaluation.sokoban_generated(make_policy, geometry, env_config, box_counts, own.num_levels, num_envs,
                                        config.seed)
  else:
    rows = evaluation.minipacman_tasks(make_policy, env_config, _EVAL_TASKS.value or [geometry.task],
                                       own.episodes, num_envs, config.seed)
  for row in rows:
    row.update(learner_step=restored.learner_step, num_frames=restored.num_frames, greedy=_GREEDY.value)
  return rows


def write_results(rows: list[dict], output_dir: str) -> None:
  os.makedirs(output_dir, exist_ok=True)
  with open(os.path.join(output_dir, "results.json"), "w") as f:
    json.dump(rows, f, indent=2)
  with open(os.path.join(output_dir, "results.csv"), "w", newline="") as f:
    writer = csv.DictWriter(f, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  try:
    fv, own = flags.FLAGS, settings(flags.FLAGS)
    config = flags_to_config.stored_train_config(fv, fv.logdir)
    config = dataclasses.replace(config, seed=own.seed)
    check_evaluation_flags(fv, config)
    flags_to_config.check_paths(config)
    output_dir = own.output_dir or os.path.join(config.logdir, "eval")
    rundir.check_writable(output_dir)
    rows = evaluate(config)
  except (ValueError, checkpointing.CheckpointError) as e:
    raise app.UsageError(str(e)) from e
  for row in rows:
    logging.info("%s", row)
  write_results(rows, output_dir)


def check_evaluation_flags(fv: flags.FlagValues, config: train_config.TrainConfig) -> None:
  """Raises ValueError for evaluation flags that would do nothing, or that another flag overrides."""
  own = settings(fv)
  if own.num_levels < 1:
    raise ValueError(f"--num_levels={own.num_levels}: give at least 1 level per box count.")
  if own.episodes < 1:
    raise ValueError(f"--episodes={own.episodes}: give at least 1 MiniPacman episode per task.")
  if own.num_envs < 1:
    raise ValueError(f"--num_envs={own.num_envs}: give at least 1 environment copy.")
  if config.seed is None:
    raise ValueError(f"--seed={common_flags.UNSET}: an evaluation is seeded (its levels and ghosts).")
  if _BOX_COUNTS.value and config.env.levels is not None:
    raise ValueError("--box_counts applies to generated levels; with --levels every level of the files "
                     "is played once at its own box count. Drop one of the two.")
  if config.geometry.game == "sokoban" and fv["episodes"].present:
    raise ValueError("--episodes counts MiniPacman episodes; for Sokoban use --num_levels.")
  if config.geometry.game == "minipacman" and (_BOX_COUNTS.value or fv["num_levels"].present):
    raise ValueError("--box_counts and --num_levels are for Sokoban; for MiniPacman use --episodes.")
  bad = [b for b in _BOX_COUNTS.value if not b.strip().isdigit() or int(b) < 1]
  if bad:
    raise ValueError(f"--box_counts: {bad} are not box counts (positive integers).")


if __name__ == "__main__":
  common_flags.run_main(main)
