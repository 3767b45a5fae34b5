"""i2a/model_pipeline/event_metrics.py: per-event precision and recall, imagined against true reward and
the open-loop rollouts match naive NumPy references; held-out windows carry the events of their steps;
and a tiny event model trained on data rich in one rare event recalls it (issue 23)."""
import numpy as np
import pytest
import tensorflow as tf

from i2a import types
from i2a.env_models import MiniPacmanEnvModel
from i2a.model_pipeline import data as model_data
from i2a.model_pipeline import event_metrics
from i2a.model_pipeline import streaming
from i2a.model_pipeline import training as model_training

# The released game's weights (step, food, pill, ghost, death), written out here as the reference.
WEIGHTS = {"regular": [0, 1, 2, 5, 0], "avoid": [0.1, -0.1, -5, -10, -20], "hunt": [0, 0, 1, 10, -20],
           "ambush": [0, -0.1, 0, 10, -20], "rush": [0, -0.1, 10, 0, 0]}


def _naive_precision_recall(probs, events, threshold):
  out = {}
  for i, name in enumerate(event_metrics.EVENTS):
    hits = predicted = support = 0
    for p, e in zip(probs[:, i], events[:, i]):
      predicted += p > threshold
      support += e == 1
      hits += (p > threshold) and e == 1
    out[name] = (hits / predicted if predicted else None, hits / support if support else None, support)
  return out


@pytest.mark.parametrize("threshold", [0.5, 0.3])
def test_precision_and_recall_match_a_naive_count(threshold):
  rng = np.random.default_rng(0)
  events = (rng.random((400, 5)) < [1.0, 0.3, 0.05, 0.02, 0.0]).astype(np.float32)  # No death at all.
  probs = np.clip(events * 0.7 + rng.random((400, 5)) * 0.45, 0, 1)
  table = event_metrics.precision_recall(probs, events, threshold)
  for name, (precision, recall, support) in _naive_precision_recall(probs, events, threshold).items():
    assert table[name]["support"] == support
    for key, value in (("precision", precision), ("recall", recall)):
      if value is None:
        assert table[name][key] is None
      else:
        assert table[name][key] == pytest.approx(value)
  assert table["killed_by_ghost"]["recall"] is None and table["step"]["recall"] == 1.0


def test_imagined_and_true_rewards_use_each_tasks_weights():
  rng = np.random.default_rng(1)
  probs, events = rng.random((50, 5)), (rng.random((50, 5)) < 0.3).astype(np.float32)
  out = event_metrics.reward_agreement(probs, events)
  for task, w in WEIGHTS.items():
    imagined = [sum(p * wi for p, wi in zip(row, w)) for row in probs]
    true = [sum(e * wi for e, wi in zip(row, w)) for row in events]
    assert out[task]["imagined_mean"] == pytest.approx(np.mean(imagined))
    assert out[task]["true_mean"] == pytest.approx(np.mean(true))
    assert out[task]["mean_abs_error"] == pytest.approx(np.mean(np.abs(np.subtract(imagined, true))))


def test_the_gate_names_every_event_below_ninety_percent_or_undefined():
  row = lambda p, r: dict(precision=p, recall=r, support=1, predicted=1, hits=1)
  one_step = dict(step=row(1.0, 1.0), ate_food=row(0.95, 0.91), ate_power_pill=row(0.89, 0.99),
                  ate_ghost=row(None, 0.0), killed_by_ghost=row(0.9, 0.9))
  assert event_metrics.gate_failures(one_step) == ["ate_power_pill 0.890/0.990", "ate_ghost n/a/0.000"]


class BrighteningModel(tf.Module):
  """A fake event model: the next frame is the frame plus 0.1; event i's probability is the mean of the
  input frame times (i + 1) / 5, plus 0.01 per unit of action."""

  def __call__(self, frame_stack, action):
    mean = tf.reduce_mean(frame_stack, axis=[1, 2, 3])
    probs = mean[:, None] * tf.range(1.0, 6.0)[None] / 5 + 0.01 * tf.cast(action, tf.float32)[:, None]
    probs = tf.clip_by_value(probs, 0.0, 1.0)
    return types.EnvModelOutput(frame_stack + 0.1, tf.zeros_like(mean), probs)


def test_open_loop_rollouts_feed_the_models_own_frames_with_the_real_actions():
  rng = np.random.default_rng(2)
  frames = rng.integers(0, 100, size=(7, 3, 4, 3)).astype(np.uint8)
  actions = rng.integers(0, 5, size=(7, 4)).astype(np.int32)
  probs = event_metrics.open_loop_probs(BrighteningModel(), frames, actions, batch_size=3)
  assert probs.shape == (7, 4, 5) and probs.dtype == np.float32
  for m in range(7):
    for k in range(4):
      mean = frames[m].astype(np.float64).mean() / 255 + 0.1 * k  # The k-th input is brightened k times.
      expected = np.clip(mean * np.arange(1, 6) / 5 + 0.01 * actions[m, k], 0, 1)
      np.testing.assert_allclose(probs[m, k], expected, rtol=1e-5)


def _dot_game(path, num_shards, seed, length=40, num_envs=8):
  """A 4x5 dot game: a dot moves by the action (wrapping); 'ate_ghost' fires when it lands on the fixed
  target cell (0, 0), which is drawn in another colour (about 1 step in 20); 'step' fires every step.
  Episodes of 10 steps restart the dot at random."""
  palette = np.array([[0, 0, 0], [0, 255, 0], [255, 255, 0]], np.uint8)
  moves = np.array([(0, 0), (0, 1), (-1, 0), (0, -1), (1, 0)])
  rng = np.random.default_rng(seed)
  header = dict(game="minipacman", env_config={"game": "minipacman", "task": "regular"},
                frame_shape=[4, 5, 3], num_actions=5, num_events=5, event_names=list(event_metrics.EVENTS),
                palette=palette.tolist(), policy="random", seed=seed)
  writer = model_data.ShardWriter(str(path), header)
  pos, age = rng.integers([4, 5], size=(num_envs, 2)), np.zeros(num_envs, int)
  for _ in range(num_shards):
    rows = {k: [] for k in model_data.DTYPES}
    for t in range(length + 1):
      frame = np.broadcast_to(palette[0], (num_envs, 4, 5, 3)).copy()
      frame[:, 0, 0] = palette[2]
      frame[np.arange(num_envs), pos[:, 0], pos[:, 1]] = palette[1]
      action = rng.integers(5, size=num_envs).astype(np.int32)
      rows["frame"].append(frame)
      rows["step_type"].append(np.where(age == 0, 0, np.where(age == 10, 2, 1)).astype(np.uint8))
      rows["action"].append(action if t < length else np.full(num_envs, -1, np.int32))
      if t == length:
        break
      restart = age == 10
      pos = (pos + moves[action]) % [4, 5]
      events = np.zeros((num_envs, 5), np.float32)
      events[:, 0], events[:, 3] = 1.0, (pos == 0).all(axis=1)
      pos[restart] = rng.integers([4, 5], size=(restart.sum(), 2))
      events[restart] = 0.0
      age = np.where(restart, 0, age + 1)
      rows["events"].append(events)
    rows["events"].insert(0, np.zeros((num_envs, 5), np.float32))
    rows["reward"] = [e[:, 3] * 10 for e in rows["events"]]
    rows["discount"] = [np.ones(num_envs, np.float32)] * len(rows["events"])
    writer.write({k: np.stack(v).astype(model_data.DTYPES[k]) for k, v in rows.items()})
  writer.close()
  return palette


def test_held_out_windows_carry_the_events_of_their_steps(tmp_path):
  _dot_game(tmp_path, num_shards=2, seed=3)
  manifest = model_data.read_manifest(str(tmp_path))
  names = [e["file"] for e in manifest["shards"]]
  pairs, windows = event_metrics.held_out(str(tmp_path), names, 10_000, 10_000, depth=3)
  shards = [model_data.read_shard(str(tmp_path), n, manifest) for n in names]
  expected = []  # Brute force: every (t, n) whose next 3 steps stay in one episode.
  for shard in shards:
    for t in range(shard["step_type"].shape[0] - 3):
      for n in range(shard["step_type"].shape[1]):
        if (shard["step_type"][t + 1:t + 4, n] != 0).all():
          expected.append((shard["frame"][t, n], shard["action"][t:t + 3, n],
                           shard["events"][t + 1:t + 4, n]))
  assert len(windows["actions"]) == len(expected) > 0
  for i, (frame, acts, events) in enumerate(expected):
    np.testing.assert_array_equal(windows["frame"][i], frame)
    np.testing.assert_array_equal(windows["actions"][i], acts)
    np.testing.assert_array_equal(windows["events"][i], events)
  assert len(pairs["action"]) == sum(int((s["step_type"][1:] != 0).sum()) for s in shards)


def test_a_tiny_event_model_trained_on_data_rich_in_a_rare_event_recalls_it(tmp_path):
  train_dir, eval_dir = tmp_path / "train", tmp_path / "eval"
  palette = _dot_game(train_dir, num_shards=6, seed=4)
  _dot_game(eval_dir, num_shards=2, seed=5)
  tf.random.set_seed(4)
  model = MiniPacmanEnvModel(frame_head="palette", palette=palette, stem_channels=16,
                             blocks=((8, 8, 16),), large_kernel=3, event_channels=16)
  config = model_training.EnvModelTrainConfig(batch_size=32, learning_rate=3e-3,
                                              event_repeats=(1, 1, 1, 5, 1))
  trainer = model_training.EnvModelTrainer(model, config)
  names = [e["file"] for e in model_data.read_manifest(str(train_dir))["shards"]]
  batches = iter(streaming.transitions_dataset(str(train_dir), names, 32, seed=4, shuffle_buffer=2000,
                                               event_repeats=config.event_repeats))
  trainer.build(next(batches))
  for _ in range(600):
    trainer.update(next(batches))
  eval_names = [e["file"] for e in model_data.read_manifest(str(eval_dir))["shards"]]
  pairs, windows = event_metrics.held_out(str(eval_dir), eval_names, 10_000, 10_000, depth=2)
  report = event_metrics.event_report(model, pairs, windows)
  ghost = report["one_step"]["ate_ghost"]
  # 19-45 eaten 'ghosts' in about 560 held-out steps, and a deterministic rule: recall and precision
  # were 100% in each of seeds 4-9 (k=2 open-loop recall 53-73%); 80% leaves room for other seeds.
  assert ghost["support"] >= 10, ghost
  assert ghost["recall"] >= 0.8 and ghost["precision"] >= 0.8, ghost
  assert report["one_step"]["step"]["recall"] == 1.0
  assert set(report["k_step"]) == {"1", "2"} and report["num_windows"] == len(windows["actions"])
  assert "| ate_ghost |" in event_metrics.format_table(report)
