r"""Where the actor's and the learner's step time goes, by op type (TensorFlow's profiler).

  python -m launch.profile_train --game=minipacman --agent=i2a --torso=unset --hidden_size=unset \
      --batch_size=16 --unroll_length=5 --envs_per_actor=8 [--precision=bfloat16] [--profile_steps=20]

Builds the agent of the training-run flags (launch/config_flags.py) with random weights (its
'learned' environment model too, unless --env_model_checkpoint names one: speed only), then
(1) the actor: one `i2a.training.actor.Actor` on --envs_per_actor environment copies acts
    --profile_steps steps (the actors' code path: environment step, batched compiled policy step,
    imagination shipped when --reuse_imagination);
(2) the learner: --profile_steps `Learner.step`s on a trajectory [T+1, B] that such an actor produced;
each after a warm-up (tracing), first timed without and then with `tf.profiler.experimental` tracing to
--profile_logdir. It prints, per phase, the top costs: op types inside the compiled step (self-time,
shared out over the in-graph time; i2a/profiling/op_profile.py) and the Python time outside it, as % of
the traced wall time, classed 'model' (convolutions and matrix products) or 'other', and the same
time by network module (the environment model, rollout policy, rollout encoder, model-free path, ...;
backward ops with their module; `op_profile.module_of`).
"""
import os
import tempfile
import time

from absl import app
from absl import flags
import tensorflow as tf

from envs import batched
from i2a import agent_core
from i2a import factory
from i2a.training import actor as actor_lib
from i2a.training import checkpointing
from i2a.training import environments
from i2a.training import learner as learner_lib
from i2a.training import loop
from i2a.profiling import op_profile
from launch import common_flags
from launch import config_flags
from launch import flags_to_config

config_flags.define()
_STEPS = flags.DEFINE_integer("profile_steps", 20, "Actor steps and learner steps traced (after warm-up).",
                              lower_bound=1)
_PROFILE_LOGDIR = flags.DEFINE_string("profile_logdir", None, "Where the profiler writes its traces "
                                      "(TensorBoard's profile tab reads them); default: a temporary directory.")
_TOP = flags.DEFINE_integer("profile_top", 12, "Op-type rows listed per table; the rest are summed.",
                            lower_bound=1)


RANDOM_MODEL = "<random>"  # Stands for the untrained environment model when none is given.


def config_from_flags(fv: flags.FlagValues = flags.FLAGS) -> loop.TrainConfig:
  """The experiment of the shared flags; a 'learned' environment model without --env_model_checkpoint
  keeps its random weights (speed only), and --batch_size defaults to --envs_per_actor."""
  if not fv["env_model_checkpoint"].present:
    fv.env_model_checkpoint = RANDOM_MODEL  # Dropped again below for agents without a learned model.
  try:
    config = flags_to_config.train_config_from_flags(fv)
  except ValueError:
    if fv["env_model_checkpoint"].present:
      raise
    fv.env_model_checkpoint = None
    config = flags_to_config.train_config_from_flags(fv)
  if config.env_model_checkpoint and config.env_model_checkpoint != RANDOM_MODEL:
    flags_to_config.check_paths(config)
  return config


class _TimedEnv:
  """A BatchedEnvironment whose `step` time is accumulated in `timer` (everything else delegated)."""

  def __init__(self, env: batched.BatchedEnvironment):
    self._env = env
    self.timer = op_profile.Timer()

  def step(self, action):
    with self.timer:
      return self._env.step(action)

  def __getattr__(self, name):
    return getattr(self._env, name)


def _timed(fn, timer: op_profile.Timer):
  def call(*args, **kwargs):
    with timer:
      return fn(*args, **kwargs)
  return call


# Readable names of the modules of `i2a.factory.build_agent`'s agents; ops in any other scope (loss
# functions, gradient clipping, grappler's rewrites) count with the ops outside every module.
MODULE_NAMES = {
    "sokoban_env_model": "environment model", "minipacman_env_model": "environment model",
    "copy_model": "environment model", "size_preserving_conv_net_model": "environment model",
    "rollout_policy": "rollout policy", "single_imag_feature": "rollout encoder: per-step CNN",
    "imag_path/rollout_encoder_lstm": "rollout encoder: LSTM",
    "imag_path/rollout_encoder_lstm_forward": "rollout encoder: forward LSTM",
    "imag_path": "imagination path: tiling, stacking", "model_free_path": "model-free path",
    "i2a_agent": "policy and value heads", "value_net": "value network (MC agent)",
    "mc_agent": "Monte Carlo agent: Q and softmax", op_profile.NO_MODULE: "losses, V-trace, optimizer, sampling",
}


def _run(phase: str, step_fn, steps: int, logdir: str, graph_timer: op_profile.Timer, outside_timers: dict,
         top: int) -> tuple[float, list[op_profile.CostRow], list[op_profile.CostRow]]:
  """Times `steps` calls of step_fn untraced, then traced; returns (untraced s/step, cost rows by op
  type, cost rows by module)."""
  start = time.perf_counter()
  for _ in range(steps):
    step_fn()
  untraced = (time.perf_counter() - start) / steps
  for timer in (graph_timer, *outside_timers.values()):
    timer.seconds = 0.0
  phase_dir = os.path.join(logdir, phase)
  tf.profiler.experimental.start(phase_dir)
  start = time.perf_counter()
  try:
    for _ in range(steps):
      step_fn()
  finally:
    wall = time.perf_counter() - start
    tf.profiler.experimental.stop()
  outside = {name: timer.seconds for name, timer in outside_timers.items()}
  rows = op_profile.cost_table(op_profile.op_stats(phase_dir), wall, graph_timer.seconds, steps, outside, top)
  merged: dict[str, float] = {}
  for stat in op_profile.op_stats(phase_dir, by="module"):
    name = MODULE_NAMES.get(stat.type, MODULE_NAMES[op_profile.NO_MODULE])
    merged[name] = merged.get(name, 0.0) + stat.self_seconds
  modules = [op_profile.OpStat(name, seconds, 1) for name, seconds in merged.items()]
  module_rows = op_profile.cost_table(modules, wall, graph_timer.seconds, steps, outside, top=len(modules))
  return untraced, rows, module_rows


def format_modules(title: str, rows: list[op_profile.CostRow]) -> str:
  """A by-module cost table as text: one line per module (or outside-the-graph item), ms/step, % wall."""
  lines = [title, f"{'module':<38} {'ms/step':>9} {'% wall':>7}"]
  lines += [f"{row.cost:<38} {1e3 * row.seconds:>9.2f} {row.percent:>6.1f}%" for row in rows]
  return "\n".join(lines)


def profile(config: loop.TrainConfig, steps: int, logdir: str, top: int = 12) -> dict:
  """Profiles `steps` actor steps and `steps` learner steps of `config`'s agent (random weights).

  Returns:
    {'actor': (untraced seconds per step, [CostRow] by op type, [CostRow] by module), 'learner': (...)};
    an actor step acts in config.envs_per_actor copies, a learner step trains on
    [unroll_length + 1, batch_size].
  """
  seed = 0 if config.seed is None else config.seed
  agent = factory.build_agent(config.agent)
  agent_core.build_variables(agent)
  if config.env_model_checkpoint and config.env_model_checkpoint != RANDOM_MODEL:
    checkpointing.load_env_model(agent.env_model, config.env_model_checkpoint)
  reuse = config.learner.reuse_imagination
  env = _TimedEnv(environments.build_env(config.geometry, config.env, config.envs_per_actor, seed=seed))
  actor = actor_lib.Actor(agent, env, unroll_length=1, ship_imagination=reuse,
                          jit_compile=config.actor_jit_compile)
  policy_timer = op_profile.Timer()
  actor._policy._step = _timed(actor._policy._step, policy_timer)  # pylint: disable=protected-access
  actor.unroll()
  actor.unroll()  # Warm-up: traces the policy step (the first unroll also resets).
  results = {"actor": _run("actor", actor.unroll, steps, logdir, policy_timer,
                           {"environment step (Python)": env.timer}, top)}
  actor.close()
  source = actor_lib.Actor(agent, environments.build_env(config.geometry, config.env, config.batch_size, seed=seed + 1000),
                           unroll_length=config.unroll_length, ship_imagination=reuse)
  trajectory = source.unroll().trajectory
  source.close()
  learner = learner_lib.Learner(agent, config.learner)
  learner_timer = op_profile.Timer()
  learner._step_fn = _timed(learner._step_fn, learner_timer)  # pylint: disable=protected-access
  learner.step(trajectory)  # Warm-up: traces the step.
  results["learner"] = _run("learner", lambda: learner.step(trajectory), steps, logdir, learner_timer, {}, top)
  return results


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  try:
    config = config_from_flags()
  except ValueError as e:
    raise app.UsageError(str(e)) from e
  with tempfile.TemporaryDirectory() as scratch:
    logdir = _PROFILE_LOGDIR.value or scratch
    results = profile(config, _STEPS.value, logdir, _TOP.value)
    a = config.agent.resolved()
    print(f"{a.game} {a.variant} precision={a.precision} torso={a.torso} hidden={a.hidden_size} "
          f"lstm={a.lstm_size} depth={a.rollout_depth} reuse={config.learner.reuse_imagination} "
          f"actor_jit={config.actor_jit_compile}; load average {os.getloadavg()[0]:.2f}")
    frames = {"actor": config.envs_per_actor, "learner": config.unroll_length * config.batch_size}
    for phase, (untraced, rows, module_rows) in results.items():
      traced = sum(r.seconds for r in rows)
      title = (f"{phase} step ({frames[phase]} frames): {1e3 * untraced:.1f} ms untraced, "
               f"{1e3 * traced:.1f} ms traced; {_STEPS.value} steps")
      print(op_profile.format_table(title, rows), flush=True)
      print(format_modules(f"{phase} step by module, {1e3 * untraced / frames[phase]:.2f} ms per frame "
                           "untraced", module_rows), flush=True)
    if _PROFILE_LOGDIR.value:
      print(f"traces: {logdir}/{{actor,learner}} (TensorBoard's profile tab)")


if __name__ == "__main__":
  common_flags.run_main(main)
