"""i2a/training/inference.py: restore_agent without a learner, and the one batched policy step."""
import dm_env
import numpy as np
import pytest
import tensorflow as tf

from envs import batched
from i2a import configs
from i2a import frame_processing
from i2a.training import checkpointing
from i2a.training import environments
from i2a.training import inference
from i2a.training import loop
from testing import fakes

TINY = configs.AgentConfig(game="minipacman", variant="standard", hidden_size=8,
                           torso=frame_processing.TorsoConfig((4,), (3,), (2,)))


def _trained_logdir(tmp_path, step=7):
  tf.random.set_seed(0)
  config = loop.TrainConfig(agent=TINY, env=environments.EnvConfig(),
                            logdir=str(tmp_path), seed=0)
  learner, checkpointer = loop.build_learner(config)
  for variable in learner.agent.trainable_variables:
    variable.assign(variable + 0.5)
  learner.learner_step.assign(step)
  learner.num_frames.assign(1234)
  checkpointer.save(step)
  return learner


def test_restore_agent_loads_weights_step_and_frames_without_an_optimizer(tmp_path):
  learner = _trained_logdir(tmp_path)
  restored = inference.restore_agent(TINY, str(tmp_path), seed=1)
  assert restored.path.endswith("ckpt-7")
  assert (restored.learner_step, restored.num_frames) == (7, 1234)
  for saved, loaded in zip(learner.agent.trainable_variables, restored.agent.trainable_variables):
    np.testing.assert_array_equal(saved.numpy(), loaded.numpy())
  # Nothing but the agent's own variables was built: no optimizer slots.
  assert all("optimizer" not in v.name for v in restored.agent.variables)


def test_restore_agent_refuses_another_agents_checkpoint_and_empty_paths(tmp_path):
  _trained_logdir(tmp_path / "run")
  with pytest.raises(checkpointing.CheckpointError):
    inference.restore_agent(configs.AgentConfig(game="minipacman", variant="standard", hidden_size=16,
                                                torso=TINY.torso), str(tmp_path / "run"))
  (tmp_path / "empty").mkdir()
  with pytest.raises(ValueError, match="no checkpoint"):
    inference.restore_agent(TINY, str(tmp_path / "empty"))


def test_policy_step_resets_the_state_at_first_steps():
  agent = fakes.small_agent(**fakes.FAKE_ENV)
  step = inference.PolicyStep(agent)
  env = fakes.FakeBatchedEnv(2)
  timestep = env.reset()
  state = step.initial_state(2)
  _, state = step(timestep, state)
  _, state = step(env.step(np.zeros(2, np.int32)), state)
  assert np.abs(state).sum() > 0
  first = batched.BatchedTimeStep(np.array([int(dm_env.StepType.FIRST), int(dm_env.StepType.MID)], np.int32),
                                  timestep.reward, timestep.discount, timestep.observation)
  _, after = step(first, state)
  _, fresh = step(first, step.initial_state(2))
  np.testing.assert_array_equal(after[0], fresh[0])  # Copy 0 started over: the old state is gone.
  assert not np.array_equal(after[1], fresh[1])  # Copy 1 kept its history.


def test_agent_actions_are_greedy_when_asked():
  agent = fakes.small_agent(**fakes.FAKE_ENV)
  env = fakes.FakeBatchedEnv(3)
  timestep = env.reset()
  greedy = inference.AgentActions(agent, 3, greedy=True)(timestep)
  output, _ = inference.PolicyStep(agent)(timestep, agent.initial_state(3).numpy())
  np.testing.assert_array_equal(greedy, np.argmax(output.policy_logits, axis=-1))
  assert greedy.dtype == np.int32


@pytest.mark.parametrize("damage", ["truncate_newest", "delete_index"])
def test_restore_agent_falls_back_to_the_newest_readable_checkpoint(tmp_path, damage, caplog):
  import glob  # pylint: disable=g-import-not-at-top
  import os  # pylint: disable=g-import-not-at-top
  learner = _trained_logdir(tmp_path, step=7)
  old = [v.numpy().copy() for v in learner.agent.trainable_variables]
  for variable in learner.agent.trainable_variables:
    variable.assign(variable + 1.0)
  learner.learner_step.assign(9)
  checkpointing.Checkpointer(str(tmp_path / "checkpoints"), 3, **learner.trackables()).save(9)
  if damage == "truncate_newest":
    (data,) = glob.glob(str(tmp_path / "checkpoints" / "ckpt-9.data*"))
    with open(data, "r+b") as f:
      f.truncate(os.path.getsize(data) // 2)
  else:
    os.remove(tmp_path / "checkpoints" / "checkpoint")
  with caplog.at_level("WARNING"):
    restored = inference.restore_agent(TINY, str(tmp_path))
  if damage == "truncate_newest":  # ckpt-9 is skipped, with its name and problem.
    assert restored.path.endswith("ckpt-7") and restored.learner_step == 7
    assert "Skipping checkpoint" in caplog.text and "ckpt-9" in caplog.text and "unreadable" in caplog.text
    for saved, loaded in zip(old, restored.agent.trainable_variables):
      np.testing.assert_array_equal(saved, loaded.numpy())
  else:  # Without the index the newest checkpoint file is still found.
    assert restored.path.endswith("ckpt-9") and restored.learner_step == 9
