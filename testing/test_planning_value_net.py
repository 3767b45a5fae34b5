"""The MCTS value network and its data (paper App. D.3): symbolic planes, shapes, regression, checkpoints,
solver-labelled returns, and MCTS driven by the network."""
import numpy as np
import pytest
import tensorflow as tf

from envs.sokoban import render
from envs.sokoban.env import Sokoban
from i2a.planning import mcts
from i2a.planning import symbolic
from i2a.planning import value_net
from i2a.planning import value_training
from testing.sokoban_levels import lvl

TINY = value_net.ValueNetConfig(channels=8, bottleneck=4, num_blocks=1, hidden_size=8)
LEVEL = ("######", "#@ $.#", "#   *#", "######")


def test_planes_are_wall_target_box_player():
  planes = symbolic.level_planes(lvl(*LEVEL))
  assert planes.shape == (4, 6, 4) and planes.dtype == np.float32
  wall, target, box, player = (planes[..., k] for k in range(4))
  np.testing.assert_array_equal(wall, [[1] * 6, [1, 0, 0, 0, 0, 1], [1, 0, 0, 0, 0, 1], [1] * 6])
  np.testing.assert_array_equal(np.argwhere(target), [[1, 4], [2, 4]])
  np.testing.assert_array_equal(np.argwhere(box), [[1, 3], [2, 4]])
  np.testing.assert_array_equal(np.argwhere(player), [[1, 1]])


def test_state_planes_match_level_planes():
  env = Sokoban(6, 4, 2, observation="symbolic", levels=[lvl(*LEVEL)])
  env.reset()
  env.step(4)
  np.testing.assert_array_equal(symbolic.state_planes([env.get_state()], 4, 6)[0],
                                symbolic.level_planes(env.current_level()))


@pytest.mark.parametrize("ppc", [1, 3, 8])
def test_level_is_read_back_from_its_frame(ppc):
  level = lvl(*LEVEL)
  frame = render.render_level(level, ppc)
  np.testing.assert_array_equal(symbolic.level_from_frame(frame, ppc), level)
  np.testing.assert_array_equal(symbolic.level_from_frame(frame / 255.0, ppc), level)
  with pytest.raises(ValueError, match="key colour"):
    symbolic.level_from_frame(np.full_like(frame, 7), ppc)


def test_value_net_shapes_and_variables():
  tf.random.set_seed(0)
  net = value_net.ValueNet()
  value = net(tf.zeros([3, 10, 10, 4]))
  assert value.shape == (3,) and value.dtype == tf.float32
  shapes = {v.name.split("/", 1)[1]: tuple(v.shape) for v in net.trainable_variables}
  assert shapes["stem/w:0"] == (1, 1, 4, 128)
  assert shapes["block_2_reduce/w:0"] == (1, 1, 128, 32)
  assert shapes["block_2_conv/w:0"] == (3, 3, 32, 32)
  assert shapes["block_2_expand/w:0"] == (1, 1, 32, 128)
  assert shapes["hidden/w:0"] == (10 * 10 * 128, 128) and shapes["value/w:0"] == (128, 1)
  assert not any(k.startswith("block_3") for k in shapes)


def test_fit_regresses_the_returns():
  tf.random.set_seed(1)
  rng = np.random.default_rng(1)
  planes = (rng.random((16, 5, 5, 4)) < 0.3).astype(np.float32)
  returns = rng.normal(size=16).astype(np.float32)
  net = value_net.ValueNet(TINY)
  losses = value_training.fit(net, planes, returns, num_steps=150, batch_size=16, learning_rate=2e-2)
  assert len(losses) == 150 and losses[-1] < 0.1 * losses[0]
  np.testing.assert_allclose(net(tf.constant(planes)).numpy(), returns, atol=0.3)


def test_checkpoint_round_trip_and_room_size_check(tmp_path):
  tf.random.set_seed(2)
  net = value_net.ValueNet(TINY)
  planes = tf.random.uniform([2, 6, 6, 4])
  want = net(planes).numpy()
  value_net.save(net, str(tmp_path), room_size=6)
  loaded = value_net.load(str(tmp_path), room_size=6)
  assert loaded.config == TINY
  np.testing.assert_array_equal(loaded(planes).numpy(), want)
  with pytest.raises(ValueError, match="6x6 rooms, not 10x10"):
    value_net.load(str(tmp_path), room_size=10)
  with pytest.raises(ValueError, match="value_net.json is missing"):
    value_net.load(str(tmp_path / "nothing"), room_size=6)


def test_optimal_returns_follow_the_solution():
  env = Sokoban(6, 3, 1, observation="symbolic", levels=[lvl("######", "#@ $.#", "######")])
  env.reset()
  labelled = value_training.optimal_returns(env, discount=0.9)
  # Moves: right (walk, -0.1), right (solving push, 10.9).
  assert [g for _, g in labelled] == pytest.approx([-0.1 + 0.9 * 10.9, 10.9])
  np.testing.assert_array_equal(labelled[0][0], lvl("######", "#@ $.#", "######"))
  assert env.get_state().steps == 0  # Left where it was.


def test_lost_position_has_no_optimal_return():
  env = Sokoban(6, 5, 1, observation="symbolic", levels=[lvl("######", "#$   #", "#  @ #", "#   .#",
                                                             "######")])
  env.reset()
  assert value_training.optimal_returns(env, 0.99) is None
  assert value_training.failing_return(3, 0.5) == pytest.approx(-0.1 * (1 + 0.5 + 0.25))


def test_solver_dataset_labels_positions():
  planes, returns = value_training.solver_dataset(np.random.default_rng(3), num_levels=3, room_size=6,
                                                  num_boxes=1, detours=3)
  assert planes.shape[1:] == (6, 6, 4) and planes.dtype == np.float32 and len(planes) == len(returns)
  assert len(planes) >= 3 and returns.max() == pytest.approx(10.9)  # Each solving push is in.
  assert (planes[..., 3].sum(axis=(1, 2)) == 1).all() and (planes[..., 2].sum(axis=(1, 2)) == 1).all()
  assert returns.min() >= value_training.failing_return(120, 0.99) - 1e-4


def test_mcts_with_a_value_network_solves_and_replays():
  tf.random.set_seed(4)
  level = lvl("######", "#@   #", "# $  #", "#   .#", "######")
  env = Sokoban(6, 5, 1, observation="symbolic")
  value_fn = value_net.NetValue(value_net.ValueNet(TINY), 5, 6)
  result = mcts.MCTS(env, mcts.MCTSConfig(budget=5000), value_fn).solve(level)
  assert result.solved and mcts.replay_solves(level, result.actions)
