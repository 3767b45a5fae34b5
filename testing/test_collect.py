"""launch/collect.py: collected shards are exactly what the environment produced; interruptions leave only
complete shards and the collection resumes; agents are loaded from launch.train's checkpoint layout; the
pipeline flag files parse with their binaries."""
import glob
import os
import signal
import subprocess
import sys
import time

from absl import app
from absl import flags
import dm_env
import numpy as np
import pytest

from i2a.training import checkpointing
from i2a import configs
from i2a import games
from i2a.training import environments
from i2a.training import inference
from i2a.model_pipeline import collection
from i2a.model_pipeline import data as model_data
from i2a import frame_processing
from i2a.training import loop
from launch import collect
from launch import flags_to_config
from launch import imagine
from launch import train
from launch import train_env_model

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIRST = int(dm_env.StepType.FIRST)
ENVS = {
    "minipacman": (games.Geometry("minipacman"),
                   environments.EnvConfig(frame_cap=7)),  # Short episodes: many boundaries.
    "sokoban": (games.Geometry("sokoban", room_size=5, pixels_per_cell=1),
                environments.EnvConfig(num_boxes=1, max_steps=6, level_when_dry="wait")),  # Levels fixed by the seed.
}


def _writer(path, setting, policy="random", seed=11):
  return model_data.ShardWriter(str(path), collection.data_header(*setting, policy, seed))


def _shards(path):
  manifest = model_data.read_manifest(str(path))
  return manifest, [model_data.read_shard(str(path), e["file"], manifest) for e in manifest["shards"]]


@pytest.mark.parametrize("game", sorted(ENVS))
def test_shards_hold_exactly_what_the_seeded_environment_produced(tmp_path, game):
  setting = ENVS[game]
  writer = _writer(tmp_path, setting)
  written = collection.collect(environments.build_env(*setting, 3, seed=11), inference.UniformActions(5, 11),
                            writer, num_transitions=50, shard_size=12, session_seed=11)
  writer.close()
  manifest, shards = _shards(tmp_path)
  assert written == 5 and manifest["num_steps"] == 60  # Whole shards: ceil(50 / 12) of 12 steps.
  assert [e["session_seed"] for e in manifest["shards"]] == [11] * 5
  # Step the same seeded environment by hand with the same random actions.
  env, rng = environments.build_env(*setting, 3, seed=11), np.random.default_rng(11)
  timestep = env.reset()
  boundaries = 0
  for shard in shards:
    assert shard["frame"].shape[:2] == (5, 3)
    for t in range(5):
      np.testing.assert_array_equal(shard["step_type"][t], timestep.step_type)
      np.testing.assert_array_equal(shard["frame"][t], timestep.observation["rgb"])
      np.testing.assert_array_equal(shard["reward"][t], timestep.reward)
      np.testing.assert_array_equal(shard["discount"][t], timestep.discount)
      np.testing.assert_array_equal(shard["events"][t],
                                    timestep.observation.get("events", np.zeros((3, 0), np.float32)))
      if t == 4:
        break  # The last row is the next shard's first; its action is taken there.
      action = rng.integers(5, size=3)
      np.testing.assert_array_equal(shard["action"][t], action)
      timestep = env.step(action)
    np.testing.assert_array_equal(shard["action"][-1], [-1, -1, -1])
    boundaries += int((shard["step_type"][1:] == FIRST).sum())
  assert boundaries > 0 and manifest["num_transitions"] == 60 - boundaries  # LAST -> FIRST excluded.
  assert manifest["num_events"] == (5 if game == "minipacman" else 0)


class _InterruptingPolicy(inference.UniformActions):
  """Raises KeyboardInterrupt (as Ctrl-C would) on its `calls`-th action."""

  def __init__(self, calls):
    super().__init__(5, 0)
    self._left = calls

  def __call__(self, timestep):
    self._left -= 1
    if self._left == 0:
      raise KeyboardInterrupt
    return super().__call__(timestep)


def test_interrupted_collection_keeps_complete_shards_and_resumes_without_duplicates(tmp_path):
  setting = ENVS["minipacman"]
  writer = _writer(tmp_path, setting)
  with pytest.raises(KeyboardInterrupt):  # Mid-shard: 2 shards of 4 steps done, 2 steps into the third.
    collection.collect(environments.build_env(*setting, 2, seed=0), _InterruptingPolicy(11), writer,
                    num_transitions=40, shard_size=8)
  writer.close()
  manifest, shards = _shards(tmp_path)
  assert [e["file"] for e in manifest["shards"]] == ["shard-00000.npz", "shard-00001.npz"]
  assert sorted(os.listdir(tmp_path)) == [".lock", "manifest.json", "shard-00000.npz", "shard-00001.npz"]
  first_two = [s["frame"].copy() for s in shards]
  writer = _writer(tmp_path, setting)
  written = collection.collect(environments.build_env(*setting, 2, seed=1), inference.UniformActions(5, 1), writer,
                            num_transitions=40, shard_size=8)
  writer.close()
  manifest, shards = _shards(tmp_path)
  assert written == 3 and manifest["num_steps"] == 40
  assert [e["file"] for e in manifest["shards"]] == [model_data.shard_name(i) for i in range(5)]
  for before, shard in zip(first_two, shards):
    np.testing.assert_array_equal(before, shard["frame"])  # Old shards untouched.
  np.testing.assert_array_equal(shards[2]["step_type"][0], [FIRST, FIRST])  # A fresh session starts.
  writer = _writer(tmp_path, setting)  # Already complete: nothing more is written.
  assert collection.collect(environments.build_env(*setting, 2, seed=2), inference.UniformActions(5, 2), writer,
                         num_transitions=40, shard_size=8) == 0
  writer.close()


def test_a_crash_before_a_shard_is_renamed_leaves_it_unlisted_and_it_is_cleaned(tmp_path, monkeypatch):
  setting = ENVS["minipacman"]
  writer = _writer(tmp_path, setting)
  real_replace, calls = os.replace, []

  def failing_replace(src, dst):
    calls.append(dst)
    if dst.endswith("shard-00001.npz"):
      raise OSError("disk gone")
    real_replace(src, dst)

  monkeypatch.setattr(model_data.os, "replace", failing_replace)
  with pytest.raises(OSError, match="disk gone"):
    collection.collect(environments.build_env(*setting, 2, seed=0), inference.UniformActions(5, 0), writer,
                    num_transitions=24, shard_size=8)
  writer.close()
  monkeypatch.setattr(model_data.os, "replace", real_replace)
  assert os.path.exists(tmp_path / "shard-00001.npz.tmp")
  manifest, _ = _shards(tmp_path)
  assert [e["file"] for e in manifest["shards"]] == ["shard-00000.npz"]
  writer = _writer(tmp_path, setting)
  assert writer.removed == ["shard-00001.npz.tmp"]
  writer.close()


def _run(args, **kwargs):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  return subprocess.Popen([sys.executable, "-m", "launch.collect", *args], cwd=REPO, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def test_a_killed_collector_process_leaves_readable_shards(tmp_path):
  out = tmp_path / "data"
  process = _run(["--env=minipacman", "--random_policy", "--num_transitions=100000000", "--shard_size=64",
                  "--num_envs=4", f"--out={out}"])
  try:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and process.poll() is None:
      if os.path.exists(out / "manifest.json") and len(glob.glob(str(out / "shard-*.npz"))) >= 3:
        break
      time.sleep(0.05)
    assert process.poll() is None, process.communicate()[1][-2000:]
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
  finally:
    if process.poll() is None:
      process.kill()
  manifest, shards = _shards(out)  # Whatever the moment of the kill, the manifest and its shards read.
  assert len(shards) >= 2 and manifest["num_steps"] == 64 * len(shards)
  header = {k: manifest[k] for k in model_data.IDENTITY_KEYS if k not in ("format", "version")}
  writer = model_data.ShardWriter(str(out), dict(header, palette=manifest["palette"]))
  assert not [n for n in os.listdir(out) if n.endswith(".tmp")]
  collection.collect(environments.build_env(*ENVS["minipacman"], 4, seed=5), inference.UniformActions(5, 5), writer,
                  num_transitions=manifest["num_steps"] + 64, shard_size=64)
  writer.close()
  assert len(_shards(out)[1]) == len(shards) + 1


def test_collect_binary_refuses_to_run_without_a_policy(tmp_path, parse_flags):
  fv = parse_flags(collect, "--env=minipacman", "--num_transitions=8", f"--out={tmp_path}")
  with pytest.raises(app.UsageError, match="exactly one of --agent_checkpoint"):
    collect.run_with_flags(fv)
  assert not os.path.exists(tmp_path / "manifest.json")


def test_collect_binary_collects_and_a_rerun_continues(tmp_path, parse_flags):
  args = ["--env=minipacman", "--random_policy", "--shard_size=16", "--num_envs=4", f"--out={tmp_path}",
          "--seed=3"]
  manifest = collect.run_with_flags(parse_flags(collect, *args, "--num_transitions=20"))
  assert manifest["num_steps"] == 32 and manifest["policy"] == "random" and manifest["seed"] == 3
  assert manifest["geometry"]["game"] == "minipacman" and manifest["frame_shape"] == [15, 19, 3]
  manifest = collect.run_with_flags(parse_flags(collect, *args, "--num_transitions=64"))
  assert [e["session_seed"] for e in manifest["shards"]] == [3, 3] + [3 + 2 * collection.SESSION_SEED_STRIDE] * 2
  with pytest.raises(app.UsageError, match="holds data with seed=3"):
    collect.run_with_flags(parse_flags(collect, *args[:-1], "--seed=4", "--num_transitions=80"))


@pytest.mark.parametrize("random_policy,agent_checkpoint", [
    pytest.param(False, None, id="neither"), pytest.param(False, "", id="empty_checkpoint"),
    pytest.param(True, "runs/x", id="both")])
def test_policy_choice_must_be_explicit(random_policy, agent_checkpoint):
  with pytest.raises(ValueError, match="exactly one of --agent_checkpoint"):
    collect.check_policy_choice(random_policy, agent_checkpoint)
  collect.check_policy_choice(True, None)
  collect.check_policy_choice(False, "runs/x")


def _tiny_train_config(tmp_path, hidden=8):
  return loop.TrainConfig(
      agent=configs.AgentConfig(game="minipacman", variant="standard", hidden_size=hidden,
                                torso=frame_processing.TorsoConfig((4,), (3,), (2,))),
      env=ENVS["minipacman"][1], logdir=str(tmp_path / "run"), seed=0)


def test_agent_from_a_launch_train_checkpoint_plays_the_collection(tmp_path):
  config = _tiny_train_config(tmp_path)
  learner, checkpointer = loop.build_learner(config)  # launch.train's own learner and checkpointer.
  for variable in learner.agent.trainable_variables:
    variable.assign(variable + 0.25)
  checkpointer.save(3)
  prefix = inference.resolve_checkpoint(config.logdir)
  assert prefix == os.path.join(config.logdir, "checkpoints", "ckpt-3")
  agent = inference.restore_agent(config.agent, prefix).agent
  for saved, loaded in zip(learner.agent.trainable_variables, agent.trainable_variables):
    np.testing.assert_array_equal(saved.numpy(), loaded.numpy())
  writer = _writer(tmp_path / "data", (config.geometry, config.env), policy={"agent_checkpoint": prefix})
  collection.collect(environments.build_env(config.geometry, config.env, 2, seed=0), inference.AgentActions(agent, 2),
                     writer, num_transitions=16, shard_size=8)
  writer.close()
  _, shards = _shards(tmp_path / "data")
  actions = np.concatenate([s["action"][:-1] for s in shards])
  assert len(shards) == 2 and actions.dtype == np.int32 and actions.min() >= 0 and actions.max() < 5
  with pytest.raises(checkpointing.CheckpointError, match="do not fit|do not match"):
    inference.restore_agent(_tiny_train_config(tmp_path, hidden=16).agent, prefix)  # Another agent's checkpoint.


def test_agent_checkpoint_paths_that_hold_nothing_are_refused(tmp_path):
  with pytest.raises(ValueError, match="no checkpoint"):
    inference.resolve_checkpoint(str(tmp_path))
  with pytest.raises(ValueError, match="neither a directory nor a checkpoint prefix"):
    inference.resolve_checkpoint(str(tmp_path / "ckpt-9"))


PIPELINE_FILES = sorted(os.path.basename(p)
                        for p in glob.glob(os.path.join(REPO, "launch", "configs", "pipeline_*.flags")))
_BINARIES = {"agent": None, "i2a": None, "collect": collect, "env_model": train_env_model, "imagine": imagine}


def test_every_stage_of_both_games_has_a_flag_file():
  stages = ("1_agent", "2_collect", "3_env_model", "4_i2a", "5_imagine")
  expected = [f"pipeline_{g}_{s}.flags" for g in ("minipacman", "sokoban") for s in stages]
  expected.append("pipeline_sokoban_3_env_model_poor.flags")  # The poor model of paper Fig. 5.
  assert PIPELINE_FILES == sorted(expected)


@pytest.mark.parametrize("name", PIPELINE_FILES)
def test_pipeline_flag_file_parses_with_its_binary(name, monkeypatch, parse_flags):
  monkeypatch.chdir(REPO)  # Nested --flagfile paths are relative to the repository root.
  game, stage = name.split("_")[1], name[:-len(".flags")].split("_", 3)[3]
  poor = stage.endswith("_poor")
  binary = _BINARIES[stage[:-len("_poor")] if poor else stage]
  flagfile = f"--flagfile=launch/configs/{name}"
  if binary is train_env_model:
    fv = parse_flags(train_env_model, flagfile)
    assert train_env_model.config_from_flags(fv).steps > 0
    assert fv.data == f"data/pipeline_{game}"
    assert fv.logdir == f"runs/env_model_{game}" + ("_poor" if poor else "")
    assert fv.env_model_size == ("poor" if poor else "good")
    return
  fv = parse_flags(binary or train, flagfile)
  config = flags_to_config.train_config_from_flags(fv, model_free_may_name_env_model=binary is imagine)
  assert config.geometry.game == config.agent.game == game
  if stage == "i2a":  # Loads the model exported by stage 3, where the paper flag files look for it.
    assert config.env_model_checkpoint == f"runs/env_model_{game}" and config.agent.variant == "i2a"
  else:  # The data agent: the paper's partially trained model-free baseline.
    assert config.agent.variant == "standard" and config.logdir == f"runs/pipeline_{game}_agent"
  if binary is collect:
    assert fv.output_dir == f"data/pipeline_{game}" and fv.agent_checkpoint == config.logdir
  if binary is imagine:
    assert fv.env_model_checkpoint == f"runs/env_model_{game}" and fv.agent_checkpoint == config.logdir
