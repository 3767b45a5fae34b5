"""The rollout policy's sampling temperature: an agent option added by touching only its config field
(i2a/configs.py), its factory branch (i2a/factory.py) and its module (i2a/policies.py); the flag, the
resume and evaluation lists and config.json follow from the declaration."""
import numpy as np
import pytest
import tensorflow as tf

from i2a import configs
from i2a import factory
from i2a import frame_processing
from i2a import policies
from i2a import sampling
from i2a.training import stored_config
from i2a.training import train_config
from launch import train  # pylint: disable=unused-import  (defines the flags parsed below)

TORSO = frame_processing.TorsoConfig(channels=(4,), kernel_shapes=(3,), strides=(2,))


def _policy(temperature: float, seed: int = 3) -> policies.RolloutPolicy:
  return policies.RolloutPolicy(5, 8, TORSO, seed=seed, temperature=temperature)


@pytest.mark.parametrize("temperature", [0.25, 1.0, 3.0])
def test_actions_are_sampled_from_the_tempered_logits_and_the_untempered_logits_are_returned(temperature):
  frames = tf.random.stateless_uniform([64, 6, 6, 3], seed=[1, 2])
  policy = _policy(temperature)
  action, logits = policy(frames)
  reference = _policy(1.0)  # Same weights, so the same logits.
  reference(frames)
  for mine, theirs in zip(policy.trainable_variables, reference.trainable_variables):
    theirs.assign(mine)
  _, reference_logits = reference(frames)
  np.testing.assert_allclose(logits.numpy(), reference_logits.numpy(), rtol=1e-6)
  expected = sampling.Sampler(3)(logits / temperature)  # The policy's stream, one draw, on logits / T.
  np.testing.assert_array_equal(action.numpy(), expected.numpy())
  assert action.dtype == tf.int32 and action.shape == [64] and logits.shape == [64, 5]


def test_a_low_temperature_samples_the_most_likely_action():
  frames = tf.random.stateless_uniform([256, 6, 6, 3], seed=[4, 5])
  action, logits = _policy(1e-4)(frames)
  top_two = np.sort(logits.numpy(), axis=-1)[:, -2:]
  clear = top_two[:, 1] - top_two[:, 0] > 1e-2  # Gap / T > 100: Gumbel noise (tail e^-100) cannot flip it.
  assert clear.sum() > 100
  np.testing.assert_array_equal(action.numpy()[clear], np.argmax(logits.numpy(), axis=-1)[clear])


@pytest.mark.parametrize("temperature", [0.0, -1.0])
def test_a_temperature_that_is_not_positive_is_refused(temperature):
  with pytest.raises(ValueError, match="temperature"):
    _policy(temperature)
  with pytest.raises(ValueError, match="rollout_temperature"):
    configs.AgentConfig(rollout_temperature=temperature)


def test_the_factory_gives_the_configured_temperature():
  config = configs.AgentConfig(game="minipacman", variant="i2a", env_model="copy", torso=TORSO, hidden_size=8,
                               lstm_size=8, rollout_hidden_size=8, rollout_temperature=0.5)
  assert factory.build_rollout_policy(config.resolved(), config.game_spec()).temperature == 0.5


def test_the_flag_and_stored_config_follow_the_declaration(parse_train_config, tmp_path):
  config = parse_train_config("--agent=copy", "--rollout_temperature=0.5")
  assert config.agent.rollout_temperature == 0.5
  assert parse_train_config().agent.rollout_temperature == 1.0 == train_config.TrainConfig().agent.rollout_temperature
  with pytest.raises(ValueError, match="need an imagination path"):  # Its scope: imagination only.
    parse_train_config("--agent=standard", "--rollout_temperature=0.5")
  stored_config.save(config, str(tmp_path))
  assert stored_config.load(str(tmp_path)) == config
  assert "agent.rollout_temperature" not in train_config.MAY_CHANGE_ON_RESUME  # It changes the experiment.
