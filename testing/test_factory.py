"""The factory builds every paper variant for both games and the talk's demo agent; configs refuse bad
combinations."""
import math

import numpy as np
import pytest
import tensorflow as tf

import i2a
from i2a.profiling import model_cost

VARIANTS = ("standard", "large", "copy", "i2a")


def _build_and_call(config):
  spec = config.game_spec()
  agent = i2a.build_agent(config, spec)
  out, state = agent(tf.zeros([2, spec.height, spec.width, 3]), agent.initial_state(2))
  return agent, spec, out, state


@pytest.mark.parametrize("game", ["minipacman", "sokoban"])
def test_every_variant_builds_with_paper_relationships(game):
  params, agents = {}, {}
  for variant in VARIANTS:
    # Depth 1 keeps the Sokoban model's 80x80 rollouts cheap; depth does not change any parameter count.
    agent, spec, out, _ = _build_and_call(i2a.AgentConfig(game=game, variant=variant, rollout_depth=1, seed=0))
    assert out.policy_logits.shape == (2, spec.num_actions)
    params[variant] = model_cost.num_parameters(agent.trainable_variables)
    agents[variant] = agent
  # Large doubles every width (paper Sec. 4.1): about 4x the parameters of the standard agent.
  assert 3 * params["standard"] < params["large"] < 5 * params["standard"]
  # The copy model has the same parameters as I2A (paper Sec. 4.1) and no environment-model variables.
  assert params["copy"] == params["i2a"]
  assert isinstance(agents["copy"].env_model, i2a.CopyModel) and not agents["copy"].frozen_variables
  assert agents["i2a"].frozen_variables
  for variant in ("standard", "large"):
    assert isinstance(agents[variant].imag_path, i2a.NoImagPath) and agents[variant].rollout_policy is None
  # The imagination code is num_actions * lstm_size wide (paper App. B.1: 5 x 256 MiniPacman, 5 x 512 Sokoban).
  lstm = {"minipacman": 256, "sokoban": 512}[game]
  code = agents["i2a"].imag_path(agents["i2a"].initial_state(1))
  assert code.shape == (1, 5 * lstm)


def _conv(kernel, c_in, c_out):
  return kernel * kernel * c_in * c_out + c_out


def _linear(n_in, n_out):
  return n_in * n_out + n_out


@pytest.mark.parametrize("env_model", ["copy", "conv"])
def test_talk_preset_is_the_notebooks_demo_agent_with_910987_parameters(env_model):
  """Counted by hand from the notebook's layers. The count is `I2AAgent.trainable_variables`: every
  trainable variable, the rollout policy's included (distillation trains it), the frozen environment
  model's excluded (CopyModel has none); the samplers' states are not trainable."""
  h, w, stack, actions, size, lstm = 15, 19, 4, 5, 128, 256
  flat = math.ceil(h / 2) * math.ceil(w / 2) * 16  # SAME padding, stride 2: 8 x 10 x 16 (talk's torso).

  def frame_processing(c_in):  # conv 16 3x3 s1, conv 16 3x3 s2, Linear(128) (talk, FrameProcessing slide).
    return _conv(3, c_in, 16) + _conv(3, 16, 16) + _linear(flat, size)

  expected = {
      "model_free_path": frame_processing(3 * stack),  # On the 4-frame stack.
      "single_imag_feature": frame_processing(3),  # On one imagined frame.
      "rollout_policy": frame_processing(3) + _linear(size, actions),
      # One LSTM(256) on [128 features, 1 reward, 5 one-hot action]: input and recurrent weights, bias.
      "rollout_encoder_lstm": 4 * lstm * (size + 1 + actions) + 4 * lstm * lstm + 4 * lstm,
      "value_and_logits": _linear(actions * lstm + size, 1 + actions),  # Off the concatenation.
  }
  assert sum(expected.values()) == 910_987
  config = i2a.talk_config(env_model, seed=0)
  assert config.resolved().hidden_size == 128 and config.resolved().lstm_size == 256
  agent = i2a.build_agent(config)
  (action, logits, _), state = agent(tf.zeros([1, h, w, 3]), agent.initial_state())
  assert action.shape == (1,) and logits.shape == (1, actions) and state.shape == (1, h, w, 3 * stack)
  modules = {m.name: m for m in agent.submodules if m.name in expected}
  assert {name: model_cost.num_parameters(m.trainable_variables) for name, m in modules.items()} == expected
  assert model_cost.num_parameters(agent.trainable_variables) == 910_987
  assert (agent.stack_size, agent.imag_path.rollout_depth, agent.imag_path.lstm_size) == (4, 3, 256)
  assert agent._hidden is None  # pylint: disable=protected-access  # No layer before the heads.
  if env_model == "copy":
    assert isinstance(agent.env_model, i2a.CopyModel) and agent.env_model.num_reward_bins == 3
    assert not agent.frozen_variables
  else:  # Trunk on 12 stack + 5 action channels; reward conv, Linear(3 bins); frame conv.
    model = agent.env_model
    assert isinstance(model, i2a.SizePreservingConvNetModel)
    np.testing.assert_array_equal(model.reward_bins.numpy(), [-1.0, 0.0, 1.0])
    frozen = (_conv(3, 3 * stack + actions, 16) + _conv(3, 16, 8) + _linear(flat // 2, 3)
              + _conv(3, 16, 3))
    assert model_cost.num_parameters(agent.frozen_variables) == frozen == 5_982


def test_talk_variant_defaults_and_bad_talk_model():
  config = i2a.AgentConfig(variant="talk").resolved()
  assert (config.hidden_size, config.rollout_hidden_size, config.lstm_size) == (128, 128, 256)
  assert (config.imag_path, config.env_model, config.torso.channels) == ("imag", "copy", (16, 16))
  with pytest.raises(ValueError, match="'copy' or 'conv'"):
    i2a.talk_config("large")


@pytest.mark.parametrize("options, expected_type", [
    (dict(env_model="conv"), i2a.SizePreservingConvNetModel),
    (dict(env_model="learned"), i2a.env_models.MiniPacmanEnvModel),
    (dict(rollout_policy="random"), i2a.RandomPolicy),
])
def test_swappable_parts(options, expected_type):
  agent, *_ = _build_and_call(i2a.AgentConfig(variant="i2a", rollout_depth=2, seed=0, **options))
  parts = (agent.env_model, agent.imag_path.rollout_policy)
  assert any(isinstance(p, expected_type) for p in parts)


def test_random_rollout_policy_has_nothing_to_distil():
  agent, *_ = _build_and_call(i2a.AgentConfig(variant="i2a", rollout_policy="random", rollout_depth=2))
  assert agent.rollout_policy is None


def test_frames_only_sokoban_model_predicts_no_reward():
  config = i2a.AgentConfig(game="sokoban", variant="i2a", predict_reward=False, room_size=5,
                           pixels_per_cell=4, rollout_depth=1)
  model = i2a.build_env_model(config)
  spec = config.game_spec()
  out = model(tf.random.uniform([2, spec.height, spec.width, 3]), tf.constant([1, 2]))
  np.testing.assert_array_equal(out.reward.numpy(), 0.0)


def test_minipacman_task_sets_the_models_event_weights():
  from envs import minipacman  # pylint: disable=g-import-not-at-top
  for task in ("regular", "hunt"):
    model = i2a.build_env_model(i2a.AgentConfig(task=task, variant="i2a"))
    np.testing.assert_allclose(np.asarray(model.event_weights), minipacman.task_weights(task))


@pytest.mark.parametrize("kwargs, message", [
    (dict(game="pong"), "Unknown game"),
    (dict(variant="huge"), "Unknown variant"),
    (dict(variant="standard", imag_path="imag"), "model-free"),
    (dict(variant="copy", env_model="learned"), "copy model"),
    (dict(env_model="perfect"), "Unknown env_model"),
    (dict(rollout_policy="greedy"), "Unknown rollout_policy"),
    (dict(frame_head="gaussian"), "Unknown frame_head"),
    (dict(task="eat_everything"), "task"),
    (dict(rollout_depth=0), "rollout_depth"),
    (dict(predict_reward=False), "frames-only"),
    (dict(lstm_size=-3), "lstm_size"),
])
def test_bad_configs_are_refused(kwargs, message):
  with pytest.raises(ValueError, match=message):
    i2a.AgentConfig(**kwargs)
