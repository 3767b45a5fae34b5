r"""Training speed on this machine: frames/s of full training and of the learner alone, and FLOP/s.

  python -m launch.benchmark_train [--games=sokoban,minipacman] [--agents=standard,copy,i2a] \
      [--precisions=bfloat16,float32] [--reuse=true,false] [--env_model_sizes=good,small] [--seconds=30] \
      [--room_size=10 --pixels_per_cell=8] [--batch_size=32 --unroll_length=20] [--torso=unset] \
      [--inference=central]

For each game, agent, environment-model size (--env_model_sizes, for agents with a 'learned' Sokoban
model), compute precision and (for I2A with a palette environment model) imagination reuse on and
off: (1) full training (local actor threads, or with --inference=central environment workers and one
inference server, + learner, `i2a.training.loop.train`) for --seconds
after warm-up, reporting the learner's consumed frames/s; (2) the learner alone, stepping on a fixed
random trajectory [T+1, B] (with random imagined rollouts when reuse is on); (3) the learner step's
FLOPs (TensorFlow's graph profiler: forward and backward convolutions and matrix products) times its
steps/s, against this machine's measured matmul peak in the same precision; (4) the cost ratio of each
agent to the standard agent at the same precision (learner-alone frames/s), and the process's peak
resident memory so far; (5) for agents that imagine, the FLOP ceiling: the actor step's forward FLOPs
per frame (environment model x rollouts x depth, rollout policy, encoder, the rest) plus the learner's
per frame, and the frames/s the matmul peak would allow for them (an upper bound on full training).
I2A uses a randomly initialised 'learned' environment model (speed only). Rows of one game and agent
run back to back, so their comparison shares the machine's load; repeating sizes
(--env_model_sizes=good,small,good,small) interleaves a before/after comparison.
"""
import os
import resource
import tempfile
import time

from absl import app
from absl import flags
import numpy as np
import tensorflow as tf

from i2a.model_pipeline import collection
from i2a.model_pipeline import export
from i2a.training import checkpointing
from i2a import configs
from i2a import factory
from i2a import frame_processing
from i2a import imagined as imagined_lib
from i2a.training import environments
from i2a.training import learner as learner_lib
from i2a.training import loop
from i2a.profiling import model_cost
from i2a import types
from launch import common_flags
from launch import config_flags

# Shared flags (launch/common_flags.py) and this binary's defaults for them (where the flag's own default
# differs): paper-size Sokoban rooms and networks, a learner batch B of 32 and unroll T of 20, and
# 16 environment copies per actor thread in full training; --seconds measured per full-training run.
DEFAULTS = dict(games=["sokoban", "minipacman"], seconds=30.0, batch_size=32, unroll_length=20,
                envs_per_actor=16, room_size=10, num_boxes=4, pixels_per_cell=8, torso=None, hidden_size=None)
SHARED = (*DEFAULTS, "num_actors", "lstm_size", "rollout_hidden_size", "actor_jit", "inference")
config_flags.define(*(n for n in SHARED if n not in ("games", "seconds")))
common_flags.define("games", "seconds", "agents")
flags.DEFINE_list("precisions", ["bfloat16", "float32"], "Compute precisions to measure.")
flags.DEFINE_list("reuse", ["true", "false"], "Imagination reuse settings for I2A (true,false).")
flags.DEFINE_list("env_model_sizes", ["good"], "Sokoban 'learned' environment-model sizes to measure "
                  f"for the agents that have one ({', '.join(configs.ENV_MODEL_SIZES)}).")
flags.DEFINE_integer("learner_steps", 5, "Timed learner-alone steps (after warm-up).")
flags.DEFINE_boolean("skip_full_training", False, "Measure the learner alone only.")


def settings(fv: flags.FlagValues):
  """The flags this binary reads, with its own defaults (DEFAULTS) for the shared ones not given."""
  return common_flags.settings(fv, DEFAULTS, (*SHARED, "agents", "precisions", "reuse", "env_model_sizes",
                                              "learner_steps", "skip_full_training"))


def matmul_peak_flops(dtype: tf.DType, n: int = 2048, seconds: float = 3.0) -> float:
  """FLOP/s of the fastest of repeated n x n matrix products in `dtype` over `seconds`: this machine's
  practical peak (the fastest call, so that other processes sharing the cores lower it less)."""
  a = tf.cast(tf.random.uniform([n, n]), dtype)
  b = tf.cast(tf.random.uniform([n, n]), dtype)
  product = tf.function(lambda: tf.reduce_sum(tf.cast(tf.matmul(a, b)[0, 0], tf.float32)))
  product().numpy()
  fastest, start = float("inf"), time.perf_counter()
  while time.perf_counter() - start < seconds:
    call = time.perf_counter()
    product().numpy()
    fastest = min(fastest, time.perf_counter() - call)
  return 2.0 * n ** 3 / fastest


def random_trajectory(agent, spec, batch: int, unroll: int, with_imagination: bool,
                      seed: int = 0) -> types.Trajectory:
  """A well-formed random trajectory [T+1, B]: uint8 frames, MID steps, behaviour logits of zeros, and
  random imagined rollouts (palette indices) when `with_imagination`."""
  rng = np.random.default_rng(seed)
  steps = (unroll + 1, batch)
  imagined = None
  palette = imagined_lib.palette_of(agent)
  if with_imagination and palette is not None:
    rollouts = steps + (agent.num_actions, agent.imag_path.rollout_depth)
    imagined = imagined_lib.CompactImagination(
        frame_index=rng.integers(0, len(palette), rollouts + (spec.height, spec.width), dtype=np.uint8),
        reward=rng.normal(size=rollouts).astype(np.float32),
        action=rng.integers(0, spec.num_actions, rollouts, dtype=np.uint8))
  return types.Trajectory(
      step_type=np.ones(steps, np.int32), reward=rng.normal(size=steps).astype(np.float32),
      observation=rng.integers(0, 256, steps + (spec.height, spec.width, 3), dtype=np.uint8),
      discount=np.ones(steps, np.float32), action=rng.integers(0, spec.num_actions, steps).astype(np.int32),
      behaviour_logits=np.zeros(steps + (spec.num_actions,), np.float32),
      initial_state=agent.initial_state(batch).numpy(), imagination=imagined)


def learner_alone(config: configs.AgentConfig, reuse: bool, batch: int, unroll: int,
                  steps: int) -> tuple[float, int]:
  """(learner frames/s, FLOPs of one learner step) on a random trajectory."""
  agent = factory.build_agent(config)
  learner = learner_lib.Learner(agent, learner_lib.LearnerConfig(reuse_imagination=reuse))
  trajectory = random_trajectory(agent, config.game_spec(), batch, unroll, reuse)
  learner.step(trajectory)  # Warm-up: traces the step.
  start = time.perf_counter()
  for _ in range(steps):
    learner.step(trajectory)
  fps = steps * unroll * batch / (time.perf_counter() - start)
  flat = tf.nest.flatten(trajectory)
  specs = [tf.TensorSpec(np.shape(x), tf.as_dtype(np.asarray(x).dtype)) for x in flat]
  def step_fn(*fields):
    return learner._step(tf.nest.pack_sequence_as(trajectory, fields))  # pylint: disable=protected-access
  return fps, model_cost.count_flops(step_fn, *specs)


def random_env_model(config: configs.AgentConfig, env: environments.EnvConfig, directory: str) -> str:
  """Saves the untrained environment model of `config` as <directory>/env_model, with the metadata
  (env_model.json) that launch.train's loader checks; returns the checkpoint prefix."""
  agent = factory.build_agent(config)
  agent(tf.zeros([1, agent.height, agent.width, 3]), agent.initial_state(1))
  checkpoint = checkpointing.save_env_model(agent.env_model, os.path.join(directory, "env_model"))
  header = collection.data_header(config.geometry, env, "random", 0)  # What a collection of this game would record.
  export.write_metadata(directory, export.model_metadata(
      "learned", header, config.frame_head, config.predict_reward, config.env_model_size,
      note="untrained (benchmark)"))
  return checkpoint


def full_training(config: configs.AgentConfig, env: environments.EnvConfig, reuse: bool,
                  seconds: float) -> float:
  """Learner-consumed frames/s of local training, measured after the first (tracing) window."""
  fv = settings(flags.FLAGS)
  with tempfile.TemporaryDirectory() as logdir:
    checkpoint = None
    if config.resolved().env_model == "learned" and config.uses_imagination:
      checkpoint = random_env_model(config, env, logdir)
    train_config = loop.TrainConfig(
        agent=config, env=env, learner=learner_lib.LearnerConfig(reuse_imagination=reuse),
        logdir=os.path.join(logdir, "run"), num_actors=fv.num_actors,
        envs_per_actor=fv.envs_per_actor, batch_size=fv.batch_size, unroll_length=fv.unroll_length,
        total_frames=10**12, env_model_checkpoint=checkpoint, checkpoint_every_secs=None,
        log_every_secs=seconds, max_seconds=2 * seconds, actor_jit_compile=fv.actor_jit,
        inference=fv.inference)
    # Stops after 2 windows of `seconds`; the returned scalars are the second's (tracing excluded).
    return loop.train(train_config)["frames_per_second"]


def flop_ceiling(config: configs.AgentConfig, learner_flops_per_frame: float, peak: float) -> str:
  """One line: the actor's forward FLOPs per frame by part, the learner's, and the frames/s that the
  matmul `peak` would allow if actors and learner ran at it (an upper bound for full training)."""
  parts = model_cost.policy_step_flops(factory.build_agent(config))
  actor = parts["total"]
  detail = ""
  if "env_model" in parts:
    agent_config = config.resolved()
    detail = (f" (env model {parts['env_model'] / 1e6:,.0f} = {agent_config.rollout_depth} steps x every "
              f"action's rollout, rollout policy {parts['rollout_policy'] / 1e6:,.0f}, encoder "
              f"{parts['encoder'] / 1e6:,.0f}, paths and heads {parts['rest'] / 1e6:,.0f})")
  ceiling = peak / (actor + learner_flops_per_frame)
  return (f"  FLOP ceiling: actor {actor / 1e6:,.0f} MFLOP/frame{detail} + learner "
          f"{learner_flops_per_frame / 1e6:,.0f} MFLOP/frame -> at most {ceiling:,.0f} frames/s of full "
          f"training at the {config.precision} matmul peak ({peak / 1e9:.0f} GFLOP/s)")


def model_sizes(game: str, variant: str, sizes: list[str]) -> list[str]:
  """The environment-model sizes to measure `variant` with: `sizes` for an agent with a 'learned'
  Sokoban model (the only game with several sizes), else just 'good' (the size does not apply)."""
  config = configs.AgentConfig(game=game, variant=variant)
  learned = config.uses_imagination and config.resolved().env_model == "learned"
  return list(sizes) if game == "sokoban" and learned else ["good"]


def peak_rss_gib() -> float:
  """This process's peak resident memory so far, GiB (Linux reports ru_maxrss in KiB)."""
  return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def main(argv):
  del argv
  fv = settings(flags.FLAGS)
  peaks = {p: matmul_peak_flops(tf.as_dtype(p)) for p in fv.precisions}
  for precision, peak in peaks.items():
    print(f"matmul peak: {peak / 1e9:.1f} GFLOP/s ({precision}, 2048x2048, {os.cpu_count()} cores)")
  print(f"torso={fv.torso} hidden={fv.hidden_size or 'paper'} lstm={fv.lstm_size or 'paper'} "
        f"rollout_hidden={fv.rollout_hidden_size or 'paper'}; "
        f"B={fv.batch_size} T={fv.unroll_length} actors={fv.num_actors}x{fv.envs_per_actor}"
        f" actor_jit={fv.actor_jit} inference={fv.inference}; load average {os.getloadavg()[0]:.2f}")
  print(f"{'game':<11} {'agent':<9} {'precision':<9} {'reuse':<5} {'train fr/s':>10} {'learner fr/s':>12} "
        f"{'GFLOP/step':>10} {'GFLOP/s':>8} {'% peak':>7} {'x std cost':>10} {'peak RSS':>8}")
  standard_fps = {}
  reuse_settings = [r.lower() in ("true", "1", "yes") for r in fv.reuse]
  for game in fv.games:
    for variant in fv.agents:
      for precision in fv.precisions:
        for size in model_sizes(game, variant, fv.env_model_sizes):
          config = configs.AgentConfig(game=game, variant=variant, room_size=fv.room_size,
                                       pixels_per_cell=fv.pixels_per_cell, precision=precision, seed=0,
                                       torso=fv.torso, hidden_size=fv.hidden_size, lstm_size=fv.lstm_size,
                                       rollout_hidden_size=fv.rollout_hidden_size, env_model_size=size)
          label = variant if size == "good" else f"{variant}/{size}"
          reusable = imagined_lib.palette_of(factory.build_agent(config)) is not None
          env = environments.EnvConfig(num_boxes=fv.num_boxes if game == "sokoban" else 4)
          for reuse in (reuse_settings if reusable else [False]):
            fps, flops = learner_alone(config, reuse, fv.batch_size, fv.unroll_length, fv.learner_steps)
            achieved = flops * fps / (fv.unroll_length * fv.batch_size)
            train_fps = float("nan") if fv.skip_full_training else full_training(config, env, reuse, fv.seconds)
            if variant == "standard":
              standard_fps[(game, precision)] = fps
            ratio = standard_fps.get((game, precision), float("nan")) / fps
            print(f"{game:<11} {label:<9} {precision:<9} {'on' if reuse else 'off':<5} {train_fps:>10,.0f} "
                  f"{fps:>12,.0f} {flops / 1e9:>10.2f} {achieved / 1e9:>8.1f} "
                  f"{100 * achieved / peaks[precision]:>6.1f}% {ratio:>10.1f} {peak_rss_gib():>6.2f}Gi",
                  flush=True)
            if config.uses_imagination:
              print(flop_ceiling(config, flops / (fv.unroll_length * fv.batch_size), peaks[precision]),
                    flush=True)

if __name__ == "__main__":
  app.run(main)
