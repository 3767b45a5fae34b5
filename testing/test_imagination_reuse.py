"""Imagination computed once (i2a/imagined.py): the learner re-encoding the rollouts an actor imagined
gets the loss and gradients of recomputing the same rollouts; actors ship them compactly and exactly."""
import numpy as np
import pytest
import tensorflow as tf

import i2a
from i2a.training import actor as actor_lib
from i2a import frame_stack
from i2a import imagined as imagined_lib
from i2a.training import learner as learner_lib
from i2a.env_models import MiniPacmanEnvModel
from testing import fakes
from testing import test_learner

SPEC = fakes.small_spec()


def tiny_palette_agent(precision, seed=0):
  """The small I2A with a (random, tiny) MiniPacman model that has the palette head: its rollouts can ship."""
  tf.random.set_seed(seed)
  model = MiniPacmanEnvModel(palette=SPEC.palette, event_weights=SPEC.event_weights, stem_channels=8,
                             blocks=((4, 4, 8),), large_kernel=3, event_channels=8)
  return fakes.small_agent("i2a", seed=seed, precision=precision, built_env_model=model)


def _imagine_like_the_learner(agent, traj):
  """The rollouts the learner's recomputation imagines: one batch of every (T+1) x B frame stack."""
  frames = tf.cast(traj.observation, tf.float32) / 255.0
  state, stacks = tf.constant(traj.initial_state), []
  for t in range(len(traj.step_type)):
    first = tf.constant(traj.step_type[t] == test_learner.F)[:, None, None, None]
    state = frame_stack.update_frame_stack(tf.where(first, agent.initial_state(state.shape[0]), state), frames[t])
    stacks.append(state)
  folded = tf.reshape(tf.stack(stacks), (-1,) + tuple(state.shape[1:]))
  imagined = agent.imag_path.imagine(tf.cast(folded, agent.compute_dtype))
  unfold = lambda x: tf.reshape(x, traj.step_type.shape + tuple(x.shape[1:]))
  return imagined_lib.Imagination(*(None if x is None else unfold(x) for x in imagined))


@pytest.fixture
def unoptimised_graphs():
  """Graphs run op by op like eager code: Grappler's fused kernels (conv + bias + activation) round
  bfloat16 once where eager ops round after each op, which would make the eagerly imagined rollouts of
  the test differ slightly from the learner's in-graph ones for reasons unrelated to reuse."""
  options = tf.config.optimizer.get_experimental_options()
  tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})
  yield
  tf.config.optimizer.set_experimental_options(dict(options, disable_meta_optimizer=False))


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_reused_imagination_gives_the_recomputed_loss_and_gradients(precision, unoptimised_graphs):
  del unoptimised_graphs
  recompute, reuse = tiny_palette_agent(precision), tiny_palette_agent(precision)
  learners = {name: learner_lib.Learner(agent, learner_lib.LearnerConfig(reuse_imagination=name == "reuse"))
              for name, agent in (("recompute", recompute), ("reuse", reuse))}
  learners["reuse"].set_weights(learners["recompute"].get_weights())
  traj = test_learner.trajectory(stack_size=2)
  sampler = recompute.imag_path.rollout_policy._sampler  # pylint: disable=protected-access
  start = sampler.state.numpy()
  imagined = _imagine_like_the_learner(recompute, traj)
  sampler.state.assign(start)  # The recomputing learner draws the same rollout actions again.
  palette = imagined_lib.palette_of(reuse)
  shipped = imagined_lib.compact(imagined, palette)
  np.testing.assert_array_equal(imagined_lib.expand(shipped, palette).frames.numpy(), imagined.frames.numpy())
  assert len(np.unique(imagined.actions[..., 1:].numpy())) > 1  # Sampled rollout actions, not constants.

  logs = {"recompute": learners["recompute"].step(traj),
          "reuse": learners["reuse"].step(traj._replace(imagination=shipped))}
  for name in ("loss", "pg_loss", "baseline_loss", "entropy_loss", "distillation_loss", "grad_norm"):
    np.testing.assert_allclose(logs["reuse"][name], logs["recompute"][name], rtol=1e-6, err_msg=name)
  # One RMSprop step from zero slots is a strictly monotonic function of each gradient: equal weights
  # after it mean equal gradients, variable by variable.
  for a, b in zip(learners["reuse"].variables(), learners["recompute"].variables()):
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-7, err_msg=a.name)


def test_actor_ships_its_imagination_compactly_and_exactly():
  agent = tiny_palette_agent("bfloat16")
  env = fakes.FakeBatchedEnv(3, height=15, width=19, num_actions=5)
  actor = actor_lib.Actor(agent, env, unroll_length=4, ship_imagination=True)
  out = actor.unroll().trajectory
  depth, a = agent.imag_path.rollout_depth, agent.num_actions
  assert out.imagination.frame_index.shape == (5, 3, a, depth, 15, 19)
  assert out.imagination.frame_index.dtype == np.uint8 and out.imagination.action.dtype == np.uint8
  assert out.imagination.reward.shape == (5, 3, a, depth) and out.imagination.reward.dtype == np.float32
  assert out.imagination.frame_index.max() < len(SPEC.palette)
  # Rollout i starts with action i.
  np.testing.assert_array_equal(out.imagination.action[:, :, :, 0], np.broadcast_to(np.arange(a), (5, 3, a)))
  per_step = imagined_lib.bytes_per_step(a, depth, 15, 19)
  assert out.imagination.terminal is None  # I2A's encoder does not read episode ends.
  assert sum(x.nbytes for x in out.imagination if x is not None) == per_step * 5 * 3


def test_agents_without_palette_frames_ship_nothing():
  agent = fakes.small_agent("i2a")  # The talk's Bernoulli 'conv' model: imagined frames are not palette.
  assert imagined_lib.palette_of(agent) is None
  assert imagined_lib.batch_bytes(agent, 8, 10) == 0


@pytest.mark.parametrize("reuse", [True, False])
def test_local_i2a_training_ships_imagination_only_when_reusing(tmp_path, monkeypatch, reuse):
  """End to end on tiny Sokoban: actors ship their rollouts and the learner's batches carry them."""
  from i2a.model_pipeline import export  # pylint: disable=g-import-not-at-top
  from i2a.training import checkpointing, environments, loop  # pylint: disable=g-import-not-at-top
  agent_config = i2a.AgentConfig(game="sokoban", variant="i2a", room_size=5, pixels_per_cell=1,
                                 rollout_depth=2, torso=i2a.TorsoConfig((4,), (3,), (2,)), hidden_size=8,
                                 lstm_size=8, rollout_hidden_size=8)
  model_agent = i2a.build_agent(agent_config)
  model_agent(tf.zeros([1, 5, 5, 3]), model_agent.initial_state(1))
  model_path = checkpointing.save_env_model(model_agent.env_model, str(tmp_path / "model" / "env_model"))
  spec = agent_config.game_spec()
  export.write_metadata(str(tmp_path / "model"), dict(
      game="sokoban", task="regular", model_kind="learned", frame_head="palette", frame_shape=[5, 5, 3],
      num_actions=5, palette=spec.palette.tolist(), predict_reward=True, room_size=5, pixels_per_cell=1))
  seen = []
  original_step = learner_lib.Learner.step
  def recording_step(self, trajectory):
    seen.append(trajectory.imagination)
    return original_step(self, trajectory)
  monkeypatch.setattr(learner_lib.Learner, "step", recording_step)
  result = loop.train(loop.TrainConfig(
      agent=agent_config, learner=learner_lib.LearnerConfig(reuse_imagination=reuse),
      env=environments.EnvConfig(num_boxes=1, max_steps=10),
      logdir=str(tmp_path / "run"), num_actors=2, envs_per_actor=2, batch_size=4, unroll_length=3,
      total_frames=2 * 3 * 4, seed=1, env_model_checkpoint=model_path, checkpoint_every_secs=None))
  assert result["learner_step"] == 2 and len(seen) == 2
  for shipped in seen:
    assert (shipped is not None) == reuse
    if reuse:
      assert shipped.frame_index.shape == (4, 4, 5, 2, 5, 5) and shipped.frame_index.dtype == np.uint8
