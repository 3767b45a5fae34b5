"""games.Geometry: the one record of the game settings, kept by the agent's config; the environment is
built for it, stored runs and data from before keep loading."""
import dataclasses
import json

import numpy as np
import pytest

import i2a
from i2a import games
from i2a.model_pipeline import collection
from i2a.model_pipeline import data as model_data
from i2a.training import environments
from i2a.training import inference
from i2a.training import loop
from i2a.training import stored_config


def test_fields_that_do_not_apply_to_the_game_are_none():
  assert games.Geometry("minipacman", "hunt", 5, 1).fields() == dict(game="minipacman", task="hunt")
  assert games.Geometry("sokoban", "hunt", 7, 2).fields() == dict(game="sokoban", room_size=7, pixels_per_cell=2)
  assert games.Geometry("sokoban", "hunt", 7, 2).fields(keep_none=True) == dict(
      game="sokoban", task=None, room_size=7, pixels_per_cell=2)
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
def test_bad_geometries_are_refused_by_the_agent_config(kwargs, message):
  with pytest.raises(ValueError, match=message):
    games.Geometry(**kwargs)
  with pytest.raises(ValueError, match=message):
    i2a.AgentConfig(**kwargs)


def test_the_environment_config_holds_no_game_setting():
  names = {f.name for f in dataclasses.fields(environments.EnvConfig)}
  assert names.isdisjoint(f.name for f in dataclasses.fields(games.Geometry))
  with pytest.raises(TypeError):
    environments.EnvConfig(game="sokoban")  # pylint: disable=unexpected-keyword-arg


def test_the_agent_config_keeps_the_normal_form():
  minipacman = i2a.AgentConfig(game="minipacman", task="hunt", room_size=9, pixels_per_cell=3)
  assert (minipacman.task, minipacman.room_size, minipacman.pixels_per_cell) == ("hunt", None, None)
  sokoban = i2a.AgentConfig(game="sokoban", task="rush", room_size=6, pixels_per_cell=2)
  assert (sokoban.task, sokoban.room_size, sokoban.pixels_per_cell) == (None, 6, 2)
  assert sokoban.geometry == games.Geometry("sokoban", None, 6, 2)


@pytest.mark.parametrize("game,fields,frame", [("sokoban", dict(room_size=5, pixels_per_cell=2), (10, 10)),
                                               ("minipacman", dict(task="ambush"), (15, 19))])
def test_environments_are_built_for_the_agents_geometry(game, fields, frame):
  agent = i2a.AgentConfig(game=game, **fields)
  spec, expected = agent.game_spec(), i2a.game_spec(game, **fields)
  assert (spec.height, spec.width, spec.num_actions) == (expected.height, expected.width, expected.num_actions)
  np.testing.assert_array_equal(spec.palette, expected.palette)
  assert spec.event_weights == expected.event_weights and spec.reward_bins == expected.reward_bins
  env = environments.build_env(agent.geometry, environments.EnvConfig(num_boxes=1, level_workers=0), 2, seed=0)
  assert env.reset().observation["rgb"].shape == (2, *frame, 3) == (2, spec.height, spec.width, 3)
  assert env.num_actions == spec.num_actions
  env.close()


def _train_config(tmp_path, agent, env):
  return loop.TrainConfig(agent=agent, env=env, logdir=str(tmp_path), num_actors=1, envs_per_actor=2,
                          batch_size=2, unroll_length=2, total_frames=8)


@pytest.mark.parametrize("agent_fields,env_fields,message", [
    (dict(game="sokoban", room_size=4, pixels_per_cell=1), dict(num_boxes=2), "2 boxes do not fit in a 4x4"),
    (dict(game="minipacman"), dict(levels="some/boxoban/dir"), "for Sokoban only"),
], ids=["boxes", "levels"])
def test_a_run_refuses_an_environment_its_geometry_cannot_have(tmp_path, agent_fields, env_fields, message):
  agent = i2a.AgentConfig(variant="standard", **agent_fields)
  with pytest.raises(ValueError, match=message):
    _train_config(tmp_path, agent, environments.EnvConfig(**env_fields))


def test_a_run_stores_the_geometry_once(tmp_path):
  agent = i2a.AgentConfig(game="sokoban", variant="standard", room_size=6, pixels_per_cell=2, hidden_size=8)
  config = _train_config(tmp_path, agent, environments.EnvConfig(num_boxes=1))
  assert config.geometry == agent.geometry == games.Geometry("sokoban", None, 6, 2)
  stored_config.save(config, str(tmp_path))
  stored = json.loads((tmp_path / stored_config.CONFIG_FILE).read_text())
  assert (stored["agent"]["room_size"], stored["agent"]["pixels_per_cell"], stored["agent"]["task"]) == (6, 2, None)
  assert not {"game", "task", "room_size", "pixels_per_cell"} & set(stored["env"])
  assert stored_config.load(str(tmp_path)) == config


def _old_format(config: loop.TrainConfig, **env_geometry) -> dict:
  """`config` as versions before this one stored it: the game settings in the env's config too, and
  settings the game does not use filled in (from the flags' defaults)."""
  values = stored_config.to_dict(config)
  values["agent"].update({k: v for k, v in dict(task="regular", room_size=7, pixels_per_cell=2).items()
                          if values["agent"][k] is None})
  values["env"].update(env_geometry)
  return values


@pytest.mark.parametrize("game", ["sokoban", "minipacman"])
def test_runs_stored_by_older_versions_load_and_resume_unchanged(tmp_path, game):
  fields = dict(room_size=6, pixels_per_cell=2) if game == "sokoban" else dict(task="hunt")
  agent = i2a.AgentConfig(game=game, variant="standard", hidden_size=8, **fields)
  config = _train_config(tmp_path, agent, environments.EnvConfig(num_boxes=1))
  old_env = dict(game=game, task=fields.get("task", "regular"), room_size=fields.get("room_size", 7),
                 pixels_per_cell=fields.get("pixels_per_cell", 2))
  (tmp_path / stored_config.CONFIG_FILE).write_text(json.dumps(_old_format(config, **old_env)))
  loaded = stored_config.load(str(tmp_path))
  assert loaded == config
  assert stored_config.check_resume(loaded, config) == []


def test_an_old_run_whose_two_records_disagree_is_refused(tmp_path):
  agent = i2a.AgentConfig(game="sokoban", variant="standard", room_size=6, pixels_per_cell=2, hidden_size=8)
  config = _train_config(tmp_path, agent, environments.EnvConfig(num_boxes=1))
  (tmp_path / stored_config.CONFIG_FILE).write_text(json.dumps(_old_format(
      config, game="sokoban", task="regular", room_size=7, pixels_per_cell=2)))
  with pytest.raises(ValueError, match="Cannot read the stored run config .*built for sokoban 6x6 rooms.*"
                                       "environment is sokoban 7x7 rooms"):
    stored_config.load(str(tmp_path))


def test_data_manifests_old_and_new_give_the_same_geometry():
  geometry = games.Geometry("sokoban", None, 6, 2)
  header = collection.data_header(geometry, environments.EnvConfig(num_boxes=1), "random", 0)
  assert header["geometry"] == dict(game="sokoban", task=None, room_size=6, pixels_per_cell=2)
  assert "room_size" not in header["env_config"]
  old = dict(header, env_config=dict(header["env_config"], game="sokoban", task="regular", room_size=6,
                                     pixels_per_cell=2))
  del old["geometry"]
  assert model_data.manifest_geometry(header) == model_data.manifest_geometry(old) == geometry
  minipacman = games.Geometry("minipacman", "hunt")
  old_minipacman = dict(game="minipacman", env_config=dict(game="minipacman", task="hunt", room_size=7,
                                                           pixels_per_cell=2, num_boxes=1))
  assert model_data.manifest_geometry(old_minipacman) == minipacman


def test_a_collection_continues_data_collected_before_the_geometry_had_its_entry(tmp_path):
  geometry, env_config = games.Geometry("minipacman", "hunt"), environments.EnvConfig(frame_cap=7)
  header = collection.data_header(geometry, env_config, "random", 3)
  writer = model_data.ShardWriter(str(tmp_path), header)
  collection.collect(environments.build_env(geometry, env_config, 2, seed=3), inference.UniformActions(5, 3),
                     writer, num_transitions=16, shard_size=4)
  shards = writer.num_shards
  writer.close()
  manifest = model_data.read_manifest(str(tmp_path))  # Rewritten as older versions wrote it.
  del manifest["geometry"]
  manifest["env_config"].update(game="minipacman", task="hunt", room_size=7, pixels_per_cell=2)
  (tmp_path / model_data.MANIFEST).write_text(json.dumps(manifest))
  writer = model_data.ShardWriter(str(tmp_path), header)
  assert writer.num_shards == shards > 0
  writer.close()
  other = collection.data_header(games.Geometry("minipacman", "rush"), env_config, "random", 3)
  with pytest.raises(ValueError, match="holds data with geometry="):
    model_data.ShardWriter(str(tmp_path), other)
