r"""Agent speed on this machine: inference steps/s and learner frames/s for each variant.

  python -m launch.benchmark_agent [--games=minipacman,sokoban] [--seconds=10]
  python -m launch.benchmark_agent --games=sokoban \
      --agents=standard,i2a,i2a/forward,i2a/bidirectional,i2a/poor,mc,mc/poor

Inference: one `tf.function` call of the agent on a batch of 32 frames (what an actor does per step).
Learner: forward and backward through a T=20 unroll of B=32 frames (snt.static_unroll) with a stand-in
loss, the shape of one IMPALA learner step. The paper reports I2A under 10x the model-free agent's cost
per step (Sec. 4); the last column gives our ratio to the standard agent.
"""
import dataclasses
import time

from absl import app
from absl import flags
import sonnet as snt
import tensorflow as tf

import i2a
from launch import common_flags
from launch import config_flags

# Shared flags (launch/common_flags.py) and this binary's defaults for them: --games and --agents to
# measure (a variant 'variant/option' adds an encoder direction, forward or bidirectional, or the poor
# model, poor), the inference and learner --batch_size, the learner's --unroll_length T, the minimum
# --seconds per measurement (after one warm-up call), and the networks' compute --precision.
DEFAULTS = dict(games=["minipacman", "sokoban"], agents=["standard", "copy", "i2a"], batch_size=32,
                unroll_length=20, seconds=10.0, precision="bfloat16")
config_flags.define("batch_size", "unroll_length", "precision")
common_flags.define("games", "agents", "seconds")
flags.DEFINE_boolean("jit_compile", False, "Compile the measured functions with XLA.")


def settings(fv: flags.FlagValues):
  """The flags this binary reads, with its own defaults (DEFAULTS) for the shared ones not given."""
  return common_flags.settings(fv, DEFAULTS, (*DEFAULTS, "jit_compile"))


def _time(fn, seconds: float) -> float:
  """Calls per second of `fn` over at least `seconds` (and at least 2 calls), after a warm-up call."""
  fn()
  calls, start = 0, time.perf_counter()
  while calls < 2 or time.perf_counter() - start < seconds:
    fn()
    calls += 1
  return calls / (time.perf_counter() - start)


def measure(config: i2a.AgentConfig, batch: int, unroll: int, seconds: float, jit: bool) -> tuple[float, float]:
  """Returns (inference agent-steps/s, learner frames/s) for `config`."""
  spec = config.game_spec()
  agent = i2a.build_agent(config, spec)
  frames = tf.random.uniform([batch, spec.height, spec.width, 3], seed=0)
  state = agent.initial_state(batch)

  @tf.function(jit_compile=jit)
  def infer(frame, state):
    return agent(frame, state)

  inference = _time(lambda: tf.nest.map_structure(lambda t: t.numpy(), infer(frames, state)), seconds) * batch

  sequence = tf.random.uniform([unroll, batch, spec.height, spec.width, 3], seed=1)
  agent(frames, state)  # Creates the variables before the optimizer sees them.
  optimizer = snt.optimizers.RMSProp(learning_rate=1e-4, epsilon=0.1)

  @tf.function(jit_compile=jit)
  def learn(sequence):
    with tf.GradientTape() as tape:
      outputs, _ = snt.static_unroll(agent, sequence, agent.initial_state(batch))
      loss = tf.reduce_mean(tf.nn.log_softmax(outputs.policy_logits)) + tf.reduce_mean(outputs.baseline ** 2)
    variables = agent.trainable_variables
    optimizer.apply(tape.gradient(loss, variables), variables)
    return loss

  learner = _time(lambda: learn(sequence).numpy(), seconds) * batch * unroll
  return inference, learner


def config_of(game: str, entry: str) -> i2a.AgentConfig:
  """'i2a' -> the variant; 'i2a/bidirectional', 'mc/poor' -> with that encoder direction or model size."""
  variant, _, option = entry.partition("/")
  extra = {}
  if option in i2a.configs.ENCODER_DIRECTIONS:
    extra["encoder_direction"] = option
  elif option in i2a.configs.ENV_MODEL_SIZES:
    extra["env_model_size"] = option
  elif option:
    raise app.UsageError(f"--agents: unknown option {option!r} in {entry!r}.")
  try:
    return i2a.AgentConfig(game=game, variant=variant, seed=0, **extra)
  except ValueError as e:
    raise app.UsageError(f"--agents={entry}: {e}") from e


def main(argv):
  del argv
  fv = settings(flags.FLAGS)
  print(f"batch {fv.batch_size}, unroll {fv.unroll_length}, jit_compile={fv.jit_compile}, "
        f"{len(tf.config.list_physical_devices('GPU'))} GPU(s)")
  header = (f"{'game':<11} {'variant':<17} {'infer steps/s':>14} {'learner frames/s':>17} "
            f"{'cost vs standard':>17}")
  print(header)
  print("-" * len(header))
  for game in fv.games:
    base = None
    for variant in fv.agents:
      config = dataclasses.replace(config_of(game, variant), precision=fv.precision)
      inference, learner = measure(config, fv.batch_size, fv.unroll_length, fv.seconds, fv.jit_compile)
      base = base or (inference, learner)
      print(f"{game:<11} {variant:<17} {inference:>14,.0f} {learner:>17,.1f} "
            f"{base[0] / inference:>7.1f}x / {base[1] / learner:.1f}x", flush=True)


if __name__ == "__main__":
  app.run(main)
