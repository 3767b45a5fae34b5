"""The environment-model pipeline never loses work or hangs: bad shards, stop signals, locked logdirs."""
import glob
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from i2a import games
from i2a.model_pipeline import data as model_data
from i2a.model_pipeline import loop as model_loop
from i2a.model_pipeline import training as model_training
from i2a.training import env_model_metadata
from i2a.training import interrupt
from testing import signalled_runs
from testing import test_env_model_training

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = model_training.EnvModelTrainConfig(steps=4, batch_size=4, eval_fraction=0.0, log_every=1,
                                            checkpoint_every=2, shuffle_buffer=16)


def _data(path, num_shards=4):
  test_env_model_training.write_synthetic_data(path, height=15, width=19, num_shards=num_shards, length=8,
                                               num_envs=2, palette=games.game_spec("minipacman").palette)
  return str(path)


def _truncate(path):
  raw = open(path, "rb").read()
  open(path, "wb").write(raw[:len(raw) // 2])


def _corrupt_inside(path):
  """Damages compressed bytes but not the zip directory: seen only when the shard is read."""
  raw = bytearray(open(path, "rb").read())
  for i in range(len(raw) // 3, len(raw) // 3 + 64):
    raw[i] ^= 0x5A
  open(path, "wb").write(bytes(raw))


@pytest.mark.parametrize("damage", [_truncate, _corrupt_inside], ids=["truncated", "corrupt_inside"])
def test_a_bad_shard_stops_env_model_training_with_its_name(tmp_path, damage):
  data = _data(tmp_path / "data")
  damage(os.path.join(data, "shard-00001.npz"))
  with pytest.raises(ValueError, match="shard-00001.npz.*skip_bad_shards"):
    model_loop.train_env_model(CONFIG, data, str(tmp_path / "model"))
  assert not os.path.exists(tmp_path / "model" / "env_model.index")


@pytest.mark.parametrize("damage", [_truncate, _corrupt_inside], ids=["truncated", "corrupt_inside"])
def test_bad_shards_are_skipped_and_counted_when_asked(tmp_path, damage, caplog):
  data = _data(tmp_path / "data")
  damage(os.path.join(data, "shard-00002.npz"))
  with caplog.at_level("WARNING"):
    result = model_loop.train_env_model(CONFIG, data, str(tmp_path / "model"), skip_bad_shards=True)
  assert result["step"] == 4 and result["bad_shards"] == 1 and result["export"]
  assert "Skipping a bad shard" in caplog.text and "shard-00002.npz" in caplog.text
  assert env_model_metadata.load_metadata(str(tmp_path / "model"))["bad_shards"] == ["shard-00002.npz"]


def test_a_stop_request_saves_the_model_trainer_and_skips_the_export(tmp_path):
  data = _data(tmp_path / "data")

  class StopAfterBuild(interrupt.StopRequest):
    def __enter__(self):
      self.request("test")  # As if a signal came before the first update.
      return super().__enter__()

  result = model_loop.train_env_model(CONFIG, data, str(tmp_path / "model"), stop=StopAfterBuild())
  assert result["stopped_by"] == "test" and result["export"] is None and result["step"] == 0
  result = model_loop.train_env_model(CONFIG, data, str(tmp_path / "model"))  # The rerun finishes.
  assert result["step"] == 4 and result["export"]


# Each script runs until stopped; the parent waits for `ready` files, then signals.
ENV_MODEL_UNTIL_STOPPED = textwrap.dedent("""
    import json, sys
    from i2a.model_pipeline import loop, training
    config = training.EnvModelTrainConfig(steps=10**6, batch_size=4, eval_fraction=0.0, log_every=1,
                                          checkpoint_every=10**6, shuffle_buffer=16)
    result = loop.train_env_model(config, sys.argv[1], sys.argv[2])
    print(json.dumps(dict(step=result["step"], stopped_by=result["stopped_by"])), flush=True)
""")
COLLECT_UNTIL_STOPPED = textwrap.dedent("""
    import json, sys
    from i2a.model_pipeline import collection, data
    from i2a.training import environments, inference
    from i2a import games
    geometry, config = games.Geometry("minipacman"), environments.EnvConfig()
    env = environments.build_env(geometry, config, 2, seed=0)
    writer = data.ShardWriter(sys.argv[1], collection.data_header(geometry, config, "random", 0))
    random_policy = inference.UniformActions(5, 0)
    def policy(timestep):  # Tells the parent that collection is under way.
      open(sys.argv[1] + "/acting", "w").close()
      return random_policy(timestep)
    written = collection.collect(env, policy, writer, 10**9, 2 * 10**6)
    print(json.dumps(dict(written=written, steps=writer.num_steps)), flush=True)
""")


def test_sigterm_saves_env_model_training(tmp_path):
  data, logdir = _data(tmp_path / "data"), tmp_path / "model"
  def ready():
    return any(os.path.getsize(p) > 300 for p in glob.glob(str(logdir / "events.*")))
  result = signalled_runs.run_until_signalled([ENV_MODEL_UNTIL_STOPPED, data, str(logdir)], ready, signal.SIGTERM,
                                              settle=1.0)
  assert result["stopped_by"] == "SIGTERM" and result["step"] >= 1
  assert glob.glob(str(logdir / "checkpoints" / f"ckpt-{result['step']}.index"))  # No periodic save.


def test_sigint_writes_the_collected_steps_as_a_last_shard(tmp_path):
  out = tmp_path / "data"
  def ready():
    return os.path.exists(out / "acting")
  result = signalled_runs.run_until_signalled([COLLECT_UNTIL_STOPPED, str(out)], ready, signal.SIGINT, settle=1.0)
  manifest = model_data.read_manifest(str(out))
  assert result["written"] == 1 and len(manifest["shards"]) == 1  # The shard would hold 10**6 steps.
  shard = model_data.read_shard(str(out), "shard-00000.npz", manifest)
  assert shard["step_type"].shape[0] == manifest["shards"][0]["length"] + 1 >= 2
  assert np.all(shard["action"][-1] == -1) and np.all(shard["action"][:-1] >= 0)


BENCHMARK_MODEL = textwrap.dedent("""
    import sys
    from i2a import configs, frame_processing
    from i2a.training import env_model_metadata, environments, loop
    from launch import benchmark_train  # Its flags clash with launch.train's: a process of its own.
    agent = configs.AgentConfig(game="minipacman", variant="i2a", env_model="learned", hidden_size=8,
                                lstm_size=8, rollout_hidden_size=8,
                                torso=frame_processing.TorsoConfig((4,), (3,), (2,)))
    env = environments.EnvConfig()
    prefix = benchmark_train.random_env_model(agent, env, sys.argv[1])
    env_model_metadata.check_checkpoint_compatible(prefix, agent)
    loop.build_learner(loop.TrainConfig(agent=agent, env=env, logdir=sys.argv[1] + "/run",
                                        env_model_checkpoint=prefix))
    print("loaded", flush=True)
""")


def test_the_benchmark_s_untrained_env_model_loads_like_a_trained_one(tmp_path):
  done = subprocess.run([sys.executable, "-c", BENCHMARK_MODEL, str(tmp_path)], cwd=REPO, capture_output=True,
                        text=True, timeout=600, check=False)
  assert done.returncode == 0 and done.stdout.strip().endswith("loaded"), done.stderr[-3000:]
