"""End-to-end local training on a tiny real Sokoban: learner steps, frames, summaries, checkpoints, resume."""
import glob
import json
import os

import pytest
import tensorflow as tf

from i2a import configs
from i2a.training import environments
from i2a import frame_processing
from i2a.training import loop
from i2a.training import progress

T, B = 5, 4


def tiny_config(logdir, total_frames=8 * T * B, **kwargs) -> loop.TrainConfig:
  """5x5 Sokoban rooms, 1 box, one pixel per cell, a 4-channel conv and 10-step episodes."""
  torso = frame_processing.TorsoConfig(channels=(4,), kernel_shapes=(3,), strides=(2,))
  agent = configs.AgentConfig(game="sokoban", variant="standard", room_size=5, pixels_per_cell=1,
                              torso=torso, hidden_size=8)
  env = environments.EnvConfig(num_boxes=1, max_steps=10)
  defaults = dict(agent=agent, env=env, logdir=str(logdir), num_actors=2, envs_per_actor=2, batch_size=B,
                  unroll_length=T, total_frames=total_frames, seed=1, log_every_secs=0.0,
                  checkpoint_every_secs=None)
  defaults.update(kwargs)
  return loop.TrainConfig(**defaults)


def read_scalars(logdir) -> dict:
  """{tag: [(step, value), ...]} from the run's TensorBoard event files."""
  scalars = {}
  for path in glob.glob(os.path.join(logdir, "events.*")):
    for event in tf.compat.v1.train.summary_iterator(path):
      for value in event.summary.value:
        scalars.setdefault(value.tag, []).append((event.step, float(tf.make_ndarray(value.tensor))))
  return scalars


def test_tiny_local_run_trains_logs_and_checkpoints(tmp_path):
  result = loop.train(tiny_config(tmp_path, checkpoint_every_frames=3 * T * B, max_checkpoints=10))
  assert result["learner_step"] == 8 and result["num_frames"] == 8 * T * B
  scalars = read_scalars(tmp_path)
  for tag in ("episode_return", "solve_rate", "loss", "pg_loss", "baseline_loss", "entropy_loss",
              "entropy", "frames_per_second", "policy_lag"):
    assert tag in scalars, tag
  assert [step for step, _ in scalars["loss"]] == [T * B * (k + 1) for k in range(8)]  # One per step.
  returns = [v for _, v in scalars["episode_return"]]
  assert all(-1.0 - 1e-6 <= r <= 10.9 for r in returns)  # 10 steps of -0.1 at worst, one solve at best.
  assert all(0.0 <= v <= 1.0 for _, v in scalars["solve_rate"])
  assert all(v >= 0.0 for _, v in scalars["policy_lag"])
  saved = sorted(int(p.split("-")[-1].split(".")[0])
                 for p in glob.glob(os.path.join(tmp_path, "checkpoints", "ckpt-*.index")))
  assert saved == [3, 6, 8]  # Every 3 steps' frames, and at the end.
  assert not os.path.exists(os.path.join(tmp_path, "resumes.jsonl"))


def test_second_run_resumes_where_the_first_stopped(tmp_path):
  first = loop.train(tiny_config(tmp_path, total_frames=3 * T * B))
  second = loop.train(tiny_config(tmp_path, total_frames=5 * T * B))
  with open(os.path.join(tmp_path, "resumes.jsonl")) as f:
    (resumed,) = [json.loads(line) for line in f]
  for key in ("num_frames", "learner_step"):
    assert resumed[key] == first[key]
  for key in ("weights_checksum", "optimizer_checksum"):
    assert resumed[key] == pytest.approx(first[key], rel=1e-6)
  assert (second["learner_step"], second["num_frames"]) == (5, 5 * T * B)


def test_progress_line_reports_frames_rate_return_solve_rate_and_eta():
  scalars = dict(frames_per_second=100.0, episode_return=1.5, solve_rate=0.25, policy_lag=1.0)
  line = progress.progress_line(scalars, frames=1000, total=7000, game="sokoban")
  assert line == "frames 1,000/7,000 | 100 frames/s | return 1.50 | solved 25.0% | lag 1.0 | ETA 00:01:00"
  line = progress.progress_line(scalars, 7000, 7000, "minipacman")
  assert "solved" not in line and line.endswith("ETA 00:00:00")


@pytest.mark.parametrize("kwargs,message", [
    (dict(batch_size=3), "multiple of envs_per_actor"),
    (dict(backend="mpi"), "Unknown backend"),
    (dict(ray_address="auto"), "only used by backend='ray'"),
    (dict(unroll_length=0), "unroll_length"),
    (dict(env=environments.EnvConfig(num_boxes=5)), "5 boxes do not fit in a 5x5 room"),
], ids=["batch_not_multiple", "unknown_backend", "address_without_ray", "zero_unroll", "boxes_do_not_fit"])
def test_bad_train_configs_are_refused(tmp_path, kwargs, message):
  with pytest.raises(ValueError, match=message):
    tiny_config(tmp_path, **kwargs)


def test_actor_failure_stops_training_with_its_error(tmp_path):
  bad_levels = tmp_path / "levels.txt"
  bad_levels.write_text("; 0\n#####\n#@$.#\n#####\n")  # 3 rows: not a 5x5 room.
  config = tiny_config(tmp_path, env=environments.EnvConfig(num_boxes=1, levels=str(bad_levels)))
  with pytest.raises(RuntimeError, match="actor failed") as info:
    loop.train(config)
  assert "levels.txt" in str(info.value.__cause__)
