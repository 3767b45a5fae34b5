"""i2a/model_pipeline/event_thresholds.py: per-event thresholds maximise min(precision, recall) on the
calibration data (a brute-force NumPy reference, a hand-made case), calibration data must be a separate
collection, the thresholds are stored with the exported model (older exports read as 0.5), and the
report, the gate and launch.imagine's labels use them (issue 23)."""
import json
import os

from absl import app
import numpy as np
import pytest

from i2a import games
from i2a.model_pipeline import data as model_data
from i2a.model_pipeline import event_metrics
from i2a.model_pipeline import event_pictures
from i2a.model_pipeline import event_thresholds
from i2a.model_pipeline import loop as model_loop
from i2a.model_pipeline import training as model_training
from i2a.training import env_model_metadata
from launch import train_env_model
from testing import test_env_model_training as synthetic
from testing import test_event_metrics
from testing import test_imagine


def _naive_score(p, y, t):
  """min(precision, recall) of predicting p > t, counted one pair at a time; 0 with no prediction."""
  hits = predicted = 0
  for prob, label in zip(p, y):
    predicted += prob > t
    hits += (prob > t) and label
  precision = hits / predicted if predicted else 0.0
  return min(precision, hits / sum(y))


def _reference(probs, events):
  """Brute force: per event, every candidate (0.5, the midpoints of the sorted distinct values of
  {0, 1, probs}) scored naively; the best, closest to 0.5, lower first."""
  out = []
  for i in range(probs.shape[1]):
    y = [bool(e > 0.5) for e in events[:, i]]
    if not any(y):
      out.append(0.5)
      continue
    values = sorted(set(probs[:, i].tolist()) | {0.0, 1.0})
    candidates = [0.5] + [(a + b) / 2 for a, b in zip(values, values[1:])]
    scored = [(-_naive_score(probs[:, i], y, t), abs(t - 0.5), t) for t in candidates]
    out.append(min(scored)[2])
  return np.array(out)


@pytest.mark.parametrize("seed,rates,bias", [
    pytest.param(0, [1.0, 0.3, 0.05, 0.02, 0.0], 0.0, id="no_deaths"),
    pytest.param(1, [0.9, 0.5, 0.1, 0.01, 0.03], -0.3, id="under_confident"),
    pytest.param(2, [0.5, 0.2, 0.02, 0.05, 0.1], 0.3, id="over_confident"),
])
def test_choose_matches_a_brute_force_reference(seed, rates, bias):
  rng = np.random.default_rng(seed)
  events = (rng.random((300, 5)) < rates).astype(np.float32)
  probs = np.clip(events * 0.5 + rng.random((300, 5)) * 0.5 + bias, 0, 1)
  probs = np.round(probs, 2)  # Repeated values: ties between thresholds.
  chosen = event_thresholds.choose(probs, events)
  assert chosen.shape == (5,) and chosen.dtype == np.float64
  np.testing.assert_array_equal(chosen, _reference(probs, events))
  for i in range(5):  # No threshold on a fine grid does better on the calibration data.
    y = events[:, i] > 0.5
    if y.any():
      best = _naive_score(probs[:, i], y, chosen[i])
      assert all(_naive_score(probs[:, i], y, t) <= best for t in np.linspace(-0.01, 1.01, 103))


def test_choose_on_a_hand_made_case():
  probs, events = np.zeros((10, 5)), np.zeros((10, 5))
  probs[:, 0], events[:, 0] = 0.9, 1  # Every threshold below 0.9 is perfect: 0.5 wins the tie.
  probs[:, 1] = [0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9]
  events[4:8, 1] = 1  # 0.3 .. 0.7 are real: p > 0.25 recalls all four at precision 4/6.
  probs[:, 2] = np.linspace(0, 0.9, 10)  # No real event: 0.5 stays.
  probs[:5, 3] = [0.25, 0.375, 0.625, 0.625, 0.75]
  events[[1, 4], 3] = 1  # p > 0.3125 and p > 0.6875 both score 0.5, equally far from 0.5: the lower.
  probs[:4, 4] = [0.6, 0.7, 0.8, 0.9]
  events[[2, 3], 4] = 1  # Over-confident: only p > 0.75 separates them.
  np.testing.assert_array_equal(event_thresholds.choose(probs, events), [0.5, 0.25, 0.5, 0.3125, 0.75])


def test_choose_refuses_arrays_of_another_shape():
  with pytest.raises(ValueError, match="need probs and events"):
    event_thresholds.choose(np.zeros((4, 3)), np.zeros((4, 3)))


def test_precision_recall_takes_one_threshold_per_event():
  rng = np.random.default_rng(3)
  probs, events = rng.random((200, 5)), (rng.random((200, 5)) < 0.3).astype(np.float32)
  thresholds = np.array([0.1, 0.3, 0.5, 0.7, 0.9])
  table = event_metrics.precision_recall(probs, events, thresholds)
  for i, name in enumerate(event_metrics.EVENTS):
    assert table[name] == event_metrics.precision_recall(probs, events, thresholds[i])[name]
  with pytest.raises(ValueError, match="one threshold or 5"):
    event_metrics.precision_recall(probs, events, thresholds[:3])


def test_old_exports_read_as_half_and_stored_thresholds_round_trip():
  np.testing.assert_array_equal(event_thresholds.from_metadata({"game": "minipacman"}), [0.5] * 5)
  np.testing.assert_array_equal(event_thresholds.from_metadata({"event_thresholds": {"ate_ghost": 0.2}}),
                                [0.5, 0.5, 0.5, 0.2, 0.5])
  report = dict(thresholds=dict(zip(event_metrics.EVENTS, [0.5, 0.4, 0.3, 0.2, 0.1])),
                calibration=dict(data="/c", num_pairs=7, one_step={}))
  entries = json.loads(json.dumps(event_thresholds.metadata_entries(report)))
  assert entries["event_calibration"] == {"data": "/c", "num_pairs": 7}
  np.testing.assert_array_equal(event_thresholds.from_metadata(entries), [0.5, 0.4, 0.3, 0.2, 0.1])
  with pytest.raises(ValueError, match="unknown events"):
    event_thresholds.from_metadata({"event_thresholds": {"ate_pill": 0.2}})


def test_calibration_data_must_be_a_separate_collection_of_the_same_frames(tmp_path):
  data, other_seed, same_seed = tmp_path / "data", tmp_path / "calibration", tmp_path / "copy"
  synthetic.write_synthetic_data(data, num_shards=1, seed=0)
  synthetic.write_synthetic_data(other_seed, num_shards=1, seed=1)
  synthetic.write_synthetic_data(same_seed, num_shards=1, seed=0)
  assert event_thresholds.check_calibration_data(str(other_seed), str(data))["seed"] != 0
  with pytest.raises(ValueError, match="is the training data"):
    event_thresholds.check_calibration_data(str(data), str(data))
  with pytest.raises(ValueError, match="training data's seed"):
    event_thresholds.check_calibration_data(str(same_seed), str(data))
  small = tmp_path / "small"
  synthetic.write_synthetic_data(small, height=5, num_shards=1, seed=2)
  with pytest.raises(ValueError, match="frame_shape"):
    event_thresholds.check_calibration_data(str(small), str(data))


def test_the_report_and_the_gate_use_the_thresholds_chosen_on_calibration_data(tmp_path):
  # The dot game's 'ghost' (the dot on the target cell) with the fake model's probability mean(frame) * 4
  # / 5: the right threshold lies far from 0.5, and calibration finds it on another collection.
  test_event_metrics._dot_game(tmp_path / "test", num_shards=2, seed=3)  # pylint: disable=protected-access
  test_event_metrics._dot_game(tmp_path / "calibration", num_shards=2, seed=4)  # pylint: disable=protected-access
  model = test_event_metrics.BrighteningModel()
  thresholds, calibration = event_thresholds.calibrate(model, str(tmp_path / "calibration"), 10_000)
  pairs, _ = event_metrics.held_out(str(tmp_path / "calibration"), ["shard-00000.npz", "shard-00001.npz"],
                                    10_000, 0, depth=1)
  probs = event_metrics.one_step_probs(model, pairs["frame"], pairs["action"])
  np.testing.assert_array_equal(thresholds, event_thresholds.choose(probs, pairs["events"]))
  assert calibration["num_pairs"] == len(probs) and calibration["data"] == str(tmp_path / "calibration")
  names = ["shard-00000.npz", "shard-00001.npz"]
  test_pairs, windows = event_metrics.held_out(str(tmp_path / "test"), names, 10_000, 10_000, depth=2)
  report = event_metrics.event_report(model, test_pairs, windows, thresholds=thresholds)
  test_probs = event_metrics.one_step_probs(model, test_pairs["frame"], test_pairs["action"])
  assert report["one_step"] == event_metrics.precision_recall(test_probs, test_pairs["events"], 0.5)
  assert report["at_thresholds"]["one_step"] == event_metrics.precision_recall(
      test_probs, test_pairs["events"], thresholds)
  assert report["thresholds"] == dict(zip(event_metrics.EVENTS, thresholds.tolist()))
  assert set(report["at_thresholds"]["k_step"]) == {"1", "2"}
  assert report["gate"]["failing"] == event_metrics.gate_failures(report["at_thresholds"]["one_step"])
  assert "(> " in event_metrics.format_table(report, at_thresholds=True)


def test_train_env_model_stores_the_chosen_thresholds_with_the_export(tmp_path, parse_flags):
  data, calibration, logdir = tmp_path / "data", tmp_path / "calibration", tmp_path / "model"
  palette = games.game_spec("minipacman").palette
  synthetic.write_synthetic_data(data, height=15, width=19, num_shards=3, length=8, num_envs=2, palette=palette)
  synthetic.write_synthetic_data(calibration, height=15, width=19, num_shards=1, length=8, num_envs=2, seed=1,
                                 palette=palette)
  config = model_training.EnvModelTrainConfig(steps=2, batch_size=4, eval_fraction=0.34, eval_every=2, log_every=1,
                                              checkpoint_every=2, eval_transitions=8, eval_windows=4, rollout_depth=2)
  result = model_loop.train_env_model(config, str(data), str(logdir), calibration_dir=str(calibration))
  metadata = env_model_metadata.load_metadata(str(logdir))
  stored = event_thresholds.from_metadata(metadata)
  report = json.loads((logdir / model_loop.EVENT_METRICS_FILE).read_text())
  assert report["thresholds"] == metadata["event_thresholds"] == result["events"]["thresholds"]
  assert report["calibration"]["num_pairs"] == metadata["event_calibration"]["num_pairs"] == (
      model_data.read_manifest(str(calibration))["num_transitions"])
  assert metadata["event_gate"] == report["gate"]
  np.testing.assert_array_equal(stored, list(report["thresholds"].values()))
  # The report alone, again, on the finished model: no update, and 0.5 without calibration data.
  flags = parse_flags(train_env_model, f"--data={data}", f"--logdir={logdir}", "--steps=2", "--eval_fraction=0.34",
                      "--model_rollout_depth=2", f"--calibration_data={data}")
  with pytest.raises(app.UsageError, match="is the training data"):
    train_env_model.main(["train_env_model"])
  assert flags.calibration_data == str(data)
  result = model_loop.train_env_model(config, str(data), str(logdir))
  assert result["step"] == 2 and result["events"]["calibration"] is None
  assert env_model_metadata.load_metadata(str(logdir))["event_thresholds"] == dict.fromkeys(event_metrics.EVENTS, 0.5)


def test_imagine_labels_an_imagined_event_above_the_models_own_threshold(tmp_path, parse_flags, monkeypatch):
  probs = np.array([1.0, 0.9, 0.0, 0.3, 0.2])
  assert event_pictures._label(None, probs) == ["food 0.90"]  # pylint: disable=protected-access
  assert event_pictures._label(None, probs, np.array([0.5, 0.95, 0.5, 0.25, 0.5])) == [  # pylint: disable=protected-access
      "GHOST 0.30"]
  model_dir = tmp_path / "model"
  _, prefix = test_imagine._export_conv_model(str(model_dir), kind="learned", frame_head="palette")  # pylint: disable=protected-access
  metadata = env_model_metadata.load_metadata(prefix)
  metadata["event_thresholds"] = dict(zip(event_metrics.EVENTS, [0.5, 0.4, 0.3, 0.2, 0.1]))
  (model_dir / env_model_metadata.METADATA_FILE).write_text(json.dumps(metadata))
  drawn = []
  real_picture = event_pictures.event_picture

  def spy(model, window, scale=8, action_names=None, thresholds=None):
    drawn.append(thresholds)
    return real_picture(model, window, scale, action_names, thresholds)

  monkeypatch.setattr(event_pictures, "event_picture", spy)
  from launch import imagine  # pylint: disable=g-import-not-at-top
  imagine.run_with_flags(parse_flags(imagine, "--game=minipacman", f"--env_model_checkpoint={prefix}",
                                     f"--output_dir={tmp_path / 'out'}", "--depth=2", "--seed=0", "--ghost_picture"))
  np.testing.assert_array_equal(drawn[0], [0.5, 0.4, 0.3, 0.2, 0.1])
  assert os.path.exists(tmp_path / "out" / "ghost_eaten.png")
