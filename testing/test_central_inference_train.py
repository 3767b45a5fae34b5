"""Training with `TrainConfig(inference='central')`: a deterministic run learns exactly what per-actor
inference learns from the same seed, and a threaded run trains and reports the server's batching."""
import pytest

from i2a.training import loop
from testing import test_train_local

T, B = test_train_local.T, test_train_local.B


def test_deterministic_central_run_learns_the_same_weights_as_per_actor_inference(tmp_path):
  """Same seed, same weights, same levels: the same actions, so the same trajectories and updates."""
  actor = loop.train(test_train_local.tiny_config(tmp_path / "actor", total_frames=4 * T * B, deterministic=True))
  central = loop.train(test_train_local.tiny_config(tmp_path / "central", total_frames=4 * T * B,
                                                    deterministic=True, inference="central"))
  for name in ("num_frames", "learner_step", "weights_checksum", "optimizer_checksum"):
    assert central[name] == actor[name], name
  assert central.get("episode_return") == actor.get("episode_return")
  assert central["policy_lag"] == actor["policy_lag"] == 0.0


def test_threaded_central_run_trains_and_reports_its_batches(tmp_path):
  result = loop.train(test_train_local.tiny_config(tmp_path, total_frames=6 * T * B, inference="central"))
  assert result["learner_step"] == 6 and result["num_frames"] == 6 * T * B
  assert 1.0 <= result["inference_batch_workers"] <= 2.0
  assert result["inference_batch_size"] == 2 * result["inference_batch_workers"]  # 2 environments each.
  assert result["inference_wait_ms"] >= 0.0 and result["actor_restarts"] == 0


def test_the_batching_settings_reach_the_server(tmp_path):
  """inference_batch_workers=1: every server batch holds one worker's request, whatever the timing; the
  acting lag (learner steps published while a batch was served) is reported and small."""
  result = loop.train(test_train_local.tiny_config(tmp_path, total_frames=4 * T * B, inference="central",
                                                   inference_batch_workers=1, inference_max_wait_secs=0.5))
  assert result["inference_batch_workers"] == 1.0 and result["inference_batch_size"] == 2.0
  assert 0.0 <= result["inference_acting_lag"] <= 1.0


def test_unknown_inference_is_refused(tmp_path):
  with pytest.raises(ValueError, match="Unknown inference 'gpu'"):
    test_train_local.tiny_config(tmp_path, inference="gpu")
