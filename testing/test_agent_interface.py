"""Every agent `factory.build_agent` builds provides `i2a.agent_interface.Agent`, with the types, shapes
and dtypes its docstrings promise; the weights actors copy come in one order."""
import numpy as np
import pytest
import tensorflow as tf

from i2a import agent_core
from i2a import agent_interface
from i2a import configs
from i2a import factory
from i2a import imagined as imagined_lib
from i2a import policies

# Small sizes keep the Sokoban variants' rollouts cheap; the interface does not depend on sizes.
CASES = [pytest.param(game, variant, rollout, id=f"{game}-{variant}-{rollout}")
         for game in ("minipacman", "sokoban") for variant in configs.VARIANTS
         for rollout in (("distilled", "random") if variant not in configs.MODEL_FREE_VARIANTS else ("none",))]


def _config(game, variant, rollout):
  kwargs = dict(game=game, variant=variant, rollout_depth=2, seed=3)
  if rollout == "random":
    kwargs["rollout_policy"] = "random"
  return configs.AgentConfig(**kwargs)


def _members(protocol) -> set[str]:
  return {name for name in dir(protocol) if not name.startswith("_")} | set(protocol.__annotations__)


def test_the_interface_names_what_its_users_ask_for():
  assert _members(agent_interface.Agent) == {
      "num_actions", "height", "width", "stack_size", "compute_dtype", "records_terminal", "rollout_depth",
      "env_model", "rollout_policy", "trainable_variables", "frozen_variables", "policy_variables",
      "initial_state", "step"}


@pytest.mark.parametrize("game,variant,rollout", CASES)
def test_every_built_variant_provides_the_agent_interface(game, variant, rollout):
  config = _config(game, variant, rollout)
  spec = config.game_spec()
  agent = factory.build_agent(config)
  agent_core.build_variables(agent)  # Sonnet refuses variable queries before a module is built.
  assert isinstance(agent, agent_interface.Agent) and isinstance(agent, agent_core.ImaginingCore)
  for name in _members(agent_interface.Agent):
    assert hasattr(agent, name), name
  assert (agent.num_actions, agent.height, agent.width) == (spec.num_actions, spec.height, spec.width)
  assert isinstance(agent.stack_size, int) and agent.compute_dtype in (tf.float32, tf.bfloat16, tf.float16)
  assert isinstance(agent.records_terminal, bool)

  batch = 2
  frame = tf.random.uniform([batch, spec.height, spec.width, 3])
  state = agent.initial_state(batch)
  assert state.dtype == tf.float32 and state.shape == (batch, spec.height, spec.width, 3 * agent.stack_size)
  output, next_state, imagination = agent.step(frame=frame, prev_state=state)  # The interface's names.
  assert output.action.dtype == tf.int32 and output.action.shape == (batch,)
  assert output.policy_logits.dtype == tf.float32 and output.policy_logits.shape == (batch, spec.num_actions)
  assert output.baseline.dtype == tf.float32 and output.baseline.shape == (batch,)
  assert next_state.shape == state.shape and next_state.dtype == tf.float32

  imagines = variant not in configs.MODEL_FREE_VARIANTS
  assert (agent.rollout_depth is not None) == (agent.env_model is not None) == imagines
  if imagines:
    depth, actions = agent.rollout_depth, spec.num_actions
    assert depth == 2 and isinstance(imagination, imagined_lib.Imagination)
    assert imagination.frames.shape == (batch, actions, depth, spec.height, spec.width, 3)
    assert (imagination.terminal is not None) == agent.records_terminal
    # Reusing the imagination gives the same step (the learner re-encodes the actors' rollouts).
    again, _ = agent(frame=frame, prev_state=state, imagination=imagination)
    np.testing.assert_allclose(again.policy_logits.numpy(), output.policy_logits.numpy(), rtol=1e-5, atol=1e-5)
  else:
    assert imagination is None and agent.frozen_variables == ()

  distilled = imagines and rollout == "distilled"
  assert isinstance(agent.rollout_policy, policies.RolloutPolicy) if distilled else agent.rollout_policy is None

  frozen = {v.ref() for v in agent.frozen_variables}
  assert frozen == ({v.ref() for v in tf.Module.variables.fget(agent.env_model)} if imagines else set())
  assert not frozen & {v.ref() for v in agent.trainable_variables}
  assert agent.policy_variables == tuple(agent.trainable_variables) + tuple(agent.frozen_variables)
  # The samplers' (seed, count) states stay out: every copy keeps its own random stream.
  assert all(v.dtype != tf.int64 for v in agent.policy_variables)
  if distilled:
    policy_variables = {v.ref() for v in agent.rollout_policy.trainable_variables}
    assert policy_variables and policy_variables <= {v.ref() for v in agent.trainable_variables}
