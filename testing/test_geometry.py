"""games.Geometry: the one definition of the game settings an agent and its environment share."""

import numpy as np
import pytest

import i2a
from i2a import games
from i2a.training import environments
from i2a.training import loop
from i2a.training import run_config


def test_fields_that_do_not_apply_to_the_game_are_none():
  assert games.Geometry("minipacman", "hunt", 5, 1).fields() == dict(game="minipacman", task="hunt")
  assert games.Geometry("sokoban", "hunt", 7, 2).fields() == dict(game="sokoban", room_size=7, pixels_per_cell=2)
  assert games.Geometry("minipacman", "hunt", room_size=5, pixels_per_cell=1) == games.Geometry("minipacman", "hunt")
  assert games.Geometry("minipacman", "hunt").room_size is None
  assert games.Geometry("sokoban", "hunt", 7, 2) == games.Geometry("sokoban", "regular", 7, 2)
  assert games.Geometry("sokoban", "hunt", 7, 2).task is None
  assert games.Geometry("sokoban", room_size=7, pixels_per_cell=2) != games.Geometry("sokoban", room_size=7)
  assert games.Geometry("minipacman", "hunt") != games.Geometry("minipacman", "rush")


@pytest.mark.parametrize("kwargs,message", [
    (dict(game="pong"), "Unknown game"),
    (dict(game="minipacman", task="chase"), "Unknown MiniPacman task 'chase'"),
    (dict(game="sokoban", room_size=2), "room_size >= 3"),
    (dict(game="sokoban", pixels_per_cell=0), "pixels_per_cell >= 1"),
])
def test_bad_geometries_are_refused_by_both_configs(kwargs, message):
  with pytest.raises(ValueError, match=message):
    games.Geometry(**kwargs)
  with pytest.raises(ValueError, match=message):
    i2a.AgentConfig(**kwargs)
  with pytest.raises(ValueError, match=message):
    environments.EnvConfig(**kwargs)


@pytest.mark.parametrize("game,fields", [("sokoban", dict(room_size=5, pixels_per_cell=2)),
                                          ("minipacman", dict(task="ambush"))])
def test_agent_and_environment_give_the_same_geometry_and_spec(game, fields):
  agent = i2a.AgentConfig(game=game, **fields)
  env = environments.EnvConfig(game=game, num_boxes=1, **fields)
  assert agent.geometry == env.geometry and isinstance(agent.geometry, i2a.Geometry)
  spec, expected = agent.game_spec(), i2a.game_spec(game, **fields)
  assert (spec.height, spec.width, spec.num_actions) == (expected.height, expected.width, expected.num_actions)
  np.testing.assert_array_equal(spec.palette, expected.palette)
  assert spec.event_weights == expected.event_weights and spec.reward_bins == expected.reward_bins
  assert env.geometry.spec().height == (10 if game == "sokoban" else 15)


def _train_config(tmp_path, agent, env):
  return loop.TrainConfig(agent=agent, env=env, logdir=str(tmp_path), num_actors=1, envs_per_actor=2,
                          batch_size=2, unroll_length=2, total_frames=8)


@pytest.mark.parametrize("agent_fields,env_fields,message", [
    (dict(game="sokoban", room_size=5, pixels_per_cell=1), dict(game="sokoban", room_size=6, num_boxes=1,
                                                                 pixels_per_cell=1), "6x6 rooms"),
    (dict(game="sokoban", room_size=5, pixels_per_cell=1), dict(game="sokoban", room_size=5, num_boxes=1,
                                                                 pixels_per_cell=2), "at 2 px per cell"),
    (dict(game="minipacman", task="hunt"), dict(game="minipacman", task="rush"), "task 'rush'"),
    (dict(game="minipacman"), dict(game="sokoban", room_size=5, num_boxes=1), "environment is sokoban"),
], ids=["room", "sprite", "task", "game"])
def test_a_run_refuses_an_environment_of_another_geometry(tmp_path, agent_fields, env_fields, message):
  agent = i2a.AgentConfig(variant="standard", **agent_fields)
  with pytest.raises(ValueError, match=f"built for {agent.geometry}.*{message}"):
    _train_config(tmp_path, agent, environments.EnvConfig(**env_fields))


def test_settings_a_game_does_not_use_do_not_count(tmp_path):
  minipacman = i2a.AgentConfig(game="minipacman", task="hunt", variant="standard", room_size=9, pixels_per_cell=3)
  _train_config(tmp_path, minipacman, environments.EnvConfig(game="minipacman", task="hunt"))
  sokoban = i2a.AgentConfig(game="sokoban", task="rush", variant="standard", room_size=5, pixels_per_cell=1)
  _train_config(tmp_path, sokoban, environments.EnvConfig(game="sokoban", room_size=5, num_boxes=1,
                                                          pixels_per_cell=1))


def test_stored_run_configs_load_with_matching_geometries(tmp_path):
  """A config.json as launch.train writes it (flat game fields in agent and env) loads unchanged."""
  agent = i2a.AgentConfig(game="sokoban", variant="standard", room_size=6, pixels_per_cell=2, hidden_size=8)
  config = _train_config(tmp_path, agent, environments.EnvConfig(game="sokoban", room_size=6, num_boxes=1,
                                                                 pixels_per_cell=2))
  run_config.save(config, str(tmp_path))
  stored = (tmp_path / run_config.CONFIG_FILE).read_text()
  assert '"room_size": 6' in stored and "geometry" not in stored
  loaded = run_config.load(str(tmp_path))
  assert loaded == config and loaded.agent.geometry == loaded.env.geometry == games.Geometry("sokoban", None, 6, 2)
