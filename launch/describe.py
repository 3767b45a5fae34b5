r"""Builds every agent variant (i2a.configs.VARIANTS: the paper's four, the talk's and the Monte Carlo
agent) for both games and prints their sizes and costs.

  python -m launch.describe

For each game and variant: one batched forward pass and (where there is a rollout policy) one
distillation step on random frames, then a table of trainable parameters, environment-model parameters
and FLOPs per agent step (batch 1).
"""
from absl import app
from absl import flags
import tensorflow as tf

import i2a
from i2a import configs
from i2a import optimizers
from i2a.profiling import model_cost
from launch import common_flags
from launch import config_flags

# Shared flags (launch/common_flags.py) and this binary's defaults for them: the --games and --agents
# to describe, the --batch_size of the forward pass and distillation step, and the --rollout_depth of the
# imagination-augmented variants (the flag's own default, 5).
DEFAULTS = dict(games=["minipacman", "sokoban"], agents=list(configs.VARIANTS), batch_size=4)
NAMES = ("games", "agents", "batch_size", "rollout_depth")
config_flags.define("batch_size", "rollout_depth")
common_flags.define("games", "agents")


def settings(fv: flags.FlagValues):
  """The flags this binary reads, with its own defaults (DEFAULTS) for the shared ones not given."""
  return common_flags.settings(fv, DEFAULTS, NAMES)


def describe(config: i2a.AgentConfig, batch_size: int) -> dict:
  """Builds `config`'s agent, runs a forward pass and a distillation step, and measures it."""
  spec = config.game_spec()
  agent = i2a.build_agent(config, spec)
  frames = tf.random.uniform([batch_size, spec.height, spec.width, 3], seed=0)
  (action, logits, baseline), _ = agent(frames, agent.initial_state(batch_size))
  assert action.shape == (batch_size,) and logits.shape == (batch_size, spec.num_actions)
  assert baseline.shape == (batch_size,)
  distill = "-"
  if agent.rollout_policy is not None:
    optimizer = optimizers.RMSPropTF1(learning_rate=1e-5, epsilon=0.1)  # The talk's distillation slide.
    with tf.GradientTape() as tape:
      _, rollout_logits = agent.rollout_policy(frames)
      loss = tf.reduce_mean(i2a.distillation_loss(rollout_logits, logits).loss)
    variables = agent.rollout_policy.trainable_variables
    optimizer.apply(tape.gradient(loss, variables), variables)
    distill = f"{float(loss):.3f}"
  frame_spec = tf.TensorSpec([1, spec.height, spec.width, 3], tf.float32)
  state_spec = tf.TensorSpec([1, spec.height, spec.width, 3 * config.stack_size], tf.float32)
  flops = model_cost.count_flops(lambda f, s: agent(f, s), frame_spec, state_spec)
  return dict(
      trainable=model_cost.num_parameters(agent.trainable_variables),
      rollout_policy=model_cost.num_parameters(agent.rollout_policy.trainable_variables)
      if agent.rollout_policy is not None else 0,
      env_model=model_cost.num_parameters(agent.frozen_variables), flops=flops, distill_loss=distill)


def main(argv):
  del argv
  fv = settings(flags.FLAGS)
  header = (f"{'game':<11} {'variant':<9} {'trainable':>11} {'of which pi-hat':>15} {'env model':>10} "
            f"{'MFLOPs/step':>12} {'distill CE':>10}")
  print(header)
  print("-" * len(header))
  for game in fv.games:
    base = None
    for variant in fv.agents:
      config = i2a.AgentConfig(game=game, variant=variant, rollout_depth=fv.rollout_depth, seed=0)
      row = describe(config, fv.batch_size)
      base = base or row["flops"]
      print(f"{game:<11} {variant:<9} {row['trainable']:>11,} {row['rollout_policy']:>15,} "
            f"{row['env_model']:>10,} {row['flops'] / 1e6:>12.1f} {row['distill_loss']:>10}"
            f"   ({row['flops'] / base:.1f}x standard)")


if __name__ == "__main__":
  app.run(main)
