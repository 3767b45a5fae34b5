r"""Measures environment speed: steps/s of one env and of the batched form, and levels/s of generation.

  python -m launch.benchmark_envs --seconds=2 --num_envs=256

Random actions drive every environment. Sokoban stepping is measured on a fixed pool of levels (made
once by the generator, or a built-in level when it is absent) so that the figures are about stepping;
generation is measured on its own (levels/s), and once more inside the stepping of a single env that
draws a fresh level every episode. If the public `gym_sokoban` package is importable, its figures are
printed too. Add a game by writing one `_<game>_rows()` function and listing it in `_SUITES`.
"""
import time
from typing import Callable, Iterator, NamedTuple

from absl import app
from absl import flags
import numpy as np

from launch import common_flags

# Shared flags (launch/common_flags.py) and this binary's defaults for them: wall-clock --seconds per
# measurement, the copies N (--num_envs) of the batched measurements, and the --games to measure.
DEFAULTS = dict(seconds=2.0, num_envs=256, games=["sokoban", "minipacman"])
common_flags.define("games", "seconds", "num_envs")
flags.DEFINE_integer("pool_size", 32, "Generated Sokoban levels in the stepping pool.")
flags.DEFINE_enum("observation", "rgb", ["rgb", "symbolic", "both"], "Sokoban observation kind.")


def settings(fv: flags.FlagValues):
  """The flags this binary reads, with its own defaults (DEFAULTS) for the shared ones not given."""
  return common_flags.settings(fv, DEFAULTS, (*DEFAULTS, "pool_size", "observation"))

# Used when the generator is not available: a 10x10 level with 4 boxes.
_FALLBACK_LEVEL = ["##########", "#   #    #", "# $ . $  #", "#  @ ##  #", "# $.  .  #",
                   "#   #  $ #", "#  .     #", "##   #####", "#        #", "##########"]


class Row(NamedTuple):
  game: str
  what: str
  num_envs: int
  rate: float
  unit: str


def _rate(chunk: Callable[[], int], seconds: float) -> float:
  """Calls `chunk` (returning the work it did) until `seconds` pass; returns work per second."""
  chunk()  # Warm-up.
  done, start = 0, time.perf_counter()
  while (elapsed := time.perf_counter() - start) < seconds:
    done += chunk()
  return done / elapsed


def single_steps_per_second(env, num_actions: int, seconds: float, chunk: int = 1000) -> float:
  """Steps/s of one dm_env environment under uniform random actions (episode resets included)."""
  actions = np.random.default_rng(0).integers(0, num_actions, 100 * chunk).tolist()
  position = [0]

  def run() -> int:
    start = position[0]
    for action in actions[start:start + chunk]:
      env.step(action)
    position[0] = (start + chunk) % len(actions)
    return chunk

  env.reset()
  return _rate(run, seconds)


def batched_steps_per_second(env, seconds: float) -> float:
  """Environment steps/s (N per call) of a `BatchedEnvironment` under uniform random actions."""
  actions = np.random.default_rng(0).integers(0, env.num_actions, (64, env.num_envs))
  position = [0]

  def run() -> int:
    env.step(actions[position[0] % len(actions)])
    position[0] += 1
    return env.num_envs

  env.reset()
  return _rate(run, seconds)


def _sokoban_pool(seconds: float, pool_size: int) -> tuple[list[np.ndarray], list[Row]]:
  """Levels to step on, and the generator's levels/s when it exists."""
  from envs.sokoban import level as level_lib  # pylint: disable=g-import-not-at-top
  try:
    from envs.sokoban import generator  # pylint: disable=g-import-not-at-top
  except ImportError:
    return [level_lib.from_text(_FALLBACK_LEVEL)], []
  rng, pool = np.random.default_rng(0), []

  def generate() -> int:
    level = generator.generate_level(rng, width=10, height=10, num_boxes=4)
    if len(pool) < pool_size:
      pool.append(level)
    return 1

  rate = _rate(generate, seconds)
  while len(pool) < pool_size:
    generate()
  return pool, [Row("sokoban", "generate_level (10x10, 4 boxes)", 1, rate, "levels/s")]


def _sokoban_rows(fv) -> Iterator[Row]:
  from envs import sokoban  # pylint: disable=g-import-not-at-top
  seconds = fv.seconds
  pool, rows = _sokoban_pool(seconds, fv.pool_size)
  yield from rows
  obs = fv.observation
  env = sokoban.Sokoban(levels=pool, observation=obs, seed=0)
  yield Row("sokoban", f"single, {obs}, level pool", 1,
            single_steps_per_second(env, sokoban.NUM_ACTIONS, seconds), "steps/s")
  batched = sokoban.BatchedSokoban(fv.num_envs, levels=pool, observation=obs, seed=0)
  yield Row("sokoban", f"batched, {obs}, level pool", fv.num_envs,
            batched_steps_per_second(batched, seconds), "steps/s")
  if rows:  # The generator exists: include a fresh level per episode.
    env = sokoban.Sokoban(observation=obs, seed=0)
    yield Row("sokoban", f"single, {obs}, generated levels", 1,
              single_steps_per_second(env, sokoban.NUM_ACTIONS, seconds), "steps/s")
  yield from _gym_sokoban_rows(seconds)


def _gym_sokoban_rows(seconds: float) -> Iterator[Row]:
  """The public gym-sokoban package on the same work, if it is installed (we do not install it)."""
  try:
    import gym  # pylint: disable=g-import-not-at-top
    import gym_sokoban  # pylint: disable=g-import-not-at-top,unused-import
  except ImportError:
    return
  env = gym.make("Sokoban-v0")
  env.reset()
  rng = np.random.default_rng(0)

  def run() -> int:
    for action in rng.integers(1, 9, 100):  # Its 9 actions; skip its no-op.
      if env.step(int(action))[2]:
        env.reset()
    return 100

  def reset() -> int:
    env.reset()
    return 1

  yield Row("gym-sokoban", "single, rgb, its own levels", 1, _rate(run, seconds), "steps/s")
  yield Row("gym-sokoban", "reset (generates a level)", 1, _rate(reset, seconds), "levels/s")


def _minipacman_rows(fv) -> Iterator[Row]:
  seconds = fv.seconds
  try:
    from envs import minipacman  # pylint: disable=g-import-not-at-top
    single, batched = minipacman.MiniPacman, minipacman.BatchedMiniPacman
  except (ImportError, AttributeError):
    return
  env = single(task="regular", seed=0)
  num_actions = env.action_spec().num_values
  yield Row("minipacman", "single, rgb", 1, single_steps_per_second(env, num_actions, seconds),
            "steps/s")
  yield Row("minipacman", "batched, rgb", fv.num_envs,
            batched_steps_per_second(batched(fv.num_envs, task="regular", seed=0), seconds),
            "steps/s")


_SUITES = {"sokoban": _sokoban_rows, "minipacman": _minipacman_rows}


def main(argv):
  del argv
  fv = settings(flags.FLAGS)
  unknown = set(fv.games) - set(_SUITES)
  if unknown:
    raise app.UsageError(f"--games has unknown games {sorted(unknown)}; known: {sorted(_SUITES)}")
  print(f"{'game':<12} {'measurement':<36} {'N':>5} {'rate':>12}  unit")
  for game in fv.games:
    for row in _SUITES[game](fv):
      print(f"{row.game:<12} {row.what:<36} {row.num_envs:>5} {row.rate:>12,.0f}  {row.unit}", flush=True)


if __name__ == "__main__":
  app.run(main)
