"""i2a/model_pipeline/data.py: shard format, manifest, valid pairs, k-step windows, splits, tf.data pipeline."""
import os

import dm_env
import numpy as np
import pytest

from i2a.model_pipeline import data
from i2a.model_pipeline import streaming

FIRST, MID, LAST = (int(t) for t in dm_env.StepType)
H, W, E = 3, 4, 5


def make_shard(step_type, seed=0, num_events=E):
  """Shard arrays with the given step types [T+1, N] and distinct random frames, actions, rewards."""
  step_type = np.asarray(step_type, np.uint8)
  t1, n = step_type.shape
  rng = np.random.default_rng(seed)
  action = rng.integers(5, size=(t1, n)).astype(np.int32)
  action[-1] = -1
  return dict(step_type=step_type, frame=rng.integers(256, size=(t1, n, H, W, 3)).astype(np.uint8),
              action=action, reward=rng.normal(size=(t1, n)).astype(np.float32),
              discount=np.ones((t1, n), np.float32),
              events=(rng.random((t1, n, num_events)) < 0.3).astype(np.float32))


def header(**overrides):
  return dict(dict(game="minipacman", env_config={"game": "minipacman", "task": "regular"},
                   frame_shape=[H, W, 3], num_actions=5, num_events=E, palette=[[0, 0, 0], [255, 255, 255]],
                   policy="random", seed=0), **overrides)


# Copy 0: an episode ends at t=2 (LAST) and a new one starts at t=3; copy 1 runs through.
STEP_TYPES = [[FIRST, FIRST], [MID, MID], [LAST, MID], [FIRST, MID], [MID, MID], [MID, LAST]]


def test_valid_pairs_exclude_only_the_last_to_first_transition():
  mask = data.valid_pairs(np.array(STEP_TYPES))
  expected = np.ones((5, 2), bool)
  expected[2, 0] = False  # LAST (t=2) -> FIRST (t=3) of copy 0.
  np.testing.assert_array_equal(mask, expected)


def test_transitions_are_the_valid_pairs_in_time_then_copy_order():
  shard = make_shard(STEP_TYPES)
  pairs = data.transitions(shard)
  expected = [(t, n) for t in range(5) for n in range(2) if (t, n) != (2, 0)]
  assert pairs["frame"].shape == (9, H, W, 3) and pairs["frame"].dtype == np.uint8
  for i, (t, n) in enumerate(expected):
    np.testing.assert_array_equal(pairs["frame"][i], shard["frame"][t, n])
    np.testing.assert_array_equal(pairs["next_frame"][i], shard["frame"][t + 1, n])
    assert pairs["action"][i] == shard["action"][t, n]
    assert pairs["reward"][i] == shard["reward"][t + 1, n]
    np.testing.assert_array_equal(pairs["events"][i], shard["events"][t + 1, n])


@pytest.mark.parametrize("depth", [pytest.param(d, id=f"depth_{d}") for d in (1, 2, 3, 5, 6)])
def test_rollout_windows_match_a_brute_force_search(depth):
  shard = make_shard(STEP_TYPES, seed=depth)
  frames, actions = data.rollout_windows(shard, depth)
  step_type = np.array(STEP_TYPES)
  expected = [(t, n) for t in range(6 - depth) for n in range(2)
              if all(step_type[t + k, n] != FIRST for k in range(1, depth + 1))]
  assert frames.shape == (len(expected), depth + 1, H, W, 3) and actions.shape == (len(expected), depth)
  for i, (t, n) in enumerate(expected):
    np.testing.assert_array_equal(frames[i], shard["frame"][t:t + depth + 1, n])
    np.testing.assert_array_equal(actions[i], shard["action"][t:t + depth, n])


def test_writer_round_trips_shards_and_counts_them(tmp_path):
  writer = data.ShardWriter(str(tmp_path), header())
  shards = [make_shard(STEP_TYPES, seed=s) for s in range(3)]
  for shard in shards:
    writer.write(shard, session_seed=7)
  writer.close()
  manifest = data.read_manifest(str(tmp_path))
  assert [e["file"] for e in manifest["shards"]] == ["shard-00000.npz", "shard-00001.npz", "shard-00002.npz"]
  assert (manifest["num_steps"], manifest["num_transitions"]) == (30, 27)
  entry = manifest["shards"][0]
  assert (entry["num_envs"], entry["length"], entry["episodes_ended"], entry["session_seed"]) == (2, 5, 2, 7)
  assert entry["event_counts"] == data.transitions(shards[0])["events"].sum(0).astype(int).tolist()
  for entry, shard in zip(manifest["shards"], shards):
    loaded = data.read_shard(str(tmp_path), entry["file"], manifest)
    for key in shard:
      np.testing.assert_array_equal(loaded[key], shard[key])
      assert loaded[key].dtype == shard[key].dtype


@pytest.mark.parametrize("key,value", [
    pytest.param("game", "sokoban", id="game"),
    pytest.param("frame_shape", [H, W + 1, 3], id="frame_shape"),
    pytest.param("seed", 1, id="seed"),
    pytest.param("policy", {"agent_checkpoint": "/x/ckpt-1"}, id="policy")])
def test_writer_refuses_to_continue_other_data(tmp_path, key, value):
  data.ShardWriter(str(tmp_path), header()).close()
  data.ShardWriter(str(tmp_path), header()).close()  # The same header continues fine (no shard yet).
  writer = data.ShardWriter(str(tmp_path), header())
  writer.write(make_shard(STEP_TYPES))
  writer.close()
  with pytest.raises(ValueError, match=f"holds data with {key}="):
    data.ShardWriter(str(tmp_path), header(**{key: value}))


def test_a_second_writer_on_the_same_directory_is_refused(tmp_path):
  writer = data.ShardWriter(str(tmp_path), header())
  with pytest.raises(RuntimeError, match="is in use by pid"):
    data.ShardWriter(str(tmp_path), header())
  writer.close()
  data.ShardWriter(str(tmp_path), header()).close()


def test_writer_removes_leftovers_that_readers_never_see(tmp_path):
  writer = data.ShardWriter(str(tmp_path), header())
  writer.write(make_shard(STEP_TYPES))
  writer.close()
  # An interrupted collection: a half-written temp shard, a complete but unlisted shard, a temp manifest.
  (tmp_path / "shard-00001.npz.tmp").write_bytes(b"half a zip")
  (tmp_path / "manifest.json.tmp").write_text("{")
  np.savez(tmp_path / "shard-00001.npz", **make_shard(STEP_TYPES, seed=9))
  manifest = data.read_manifest(str(tmp_path))
  assert [e["file"] for e in manifest["shards"]] == ["shard-00000.npz"]
  train, held = data.split_shards(manifest, 0.0)
  assert train == ["shard-00000.npz"] and held == []
  writer = data.ShardWriter(str(tmp_path), header())
  assert writer.removed == ["manifest.json.tmp", "shard-00001.npz", "shard-00001.npz.tmp"]
  writer.write(make_shard(STEP_TYPES, seed=3))
  writer.close()
  assert sorted(os.listdir(tmp_path)) == [".lock", "manifest.json", "shard-00000.npz", "shard-00001.npz"]


@pytest.mark.parametrize("arrays,match", [
    pytest.param({"step_type": np.zeros((3, 2), np.uint8)}, "missing arrays", id="missing_arrays"),
    pytest.param(dict(make_shard(STEP_TYPES), frame=np.zeros((6, 2, H, W, 3), np.float32)),
                 "frame is float32", id="float_frames"),
    pytest.param(dict(make_shard(STEP_TYPES), events=np.zeros((6, 2, 4), np.float32)), "events is float32",
                 id="wrong_event_count"),
    pytest.param(make_shard([[FIRST, FIRST]]), "T\\+1 >= 2", id="single_row"),
])
def test_bad_shards_are_refused_with_the_array_named(tmp_path, arrays, match):
  writer = data.ShardWriter(str(tmp_path), header())
  with pytest.raises(ValueError, match=match):
    writer.write(arrays)
  writer.close()
  assert data.read_manifest(str(tmp_path))["shards"] == []


def test_unreadable_manifest_and_shard_name_the_file(tmp_path):
  with pytest.raises(ValueError, match="manifest.json does not exist"):
    data.read_manifest(str(tmp_path))
  (tmp_path / "manifest.json").write_text("{not json")
  with pytest.raises(ValueError, match="Cannot read the data manifest"):
    data.read_manifest(str(tmp_path))
  with pytest.raises(ValueError, match="Cannot read the data manifest"):
    data.ShardWriter(str(tmp_path), header())  # Never continues data it cannot account for.
  (tmp_path / "manifest.json").unlink()
  writer = data.ShardWriter(str(tmp_path), header())
  writer.write(make_shard(STEP_TYPES))
  writer.close()
  manifest = data.read_manifest(str(tmp_path))
  shard = tmp_path / "shard-00000.npz"
  content = shard.read_bytes()
  for broken in (content[:len(content) // 2], b"not a zip"):  # Truncated by a full disk, or garbage.
    shard.write_bytes(broken)
    with pytest.raises(ValueError, match="Cannot read data shard .*shard-00000.npz"):
      data.read_shard(str(tmp_path), "shard-00000.npz", manifest)


@pytest.mark.parametrize("num_shards,fraction,held", [
    pytest.param(20, 0.1, [9, 19], id="tenth"), pytest.param(10, 0.25, [3, 7], id="quarter"),
    pytest.param(3, 0.1, [2], id="too_few_shards_hold_out_the_last"),
    pytest.param(1, 0.1, [], id="one_shard_trains"), pytest.param(5, 0.0, [], id="no_held_out"),
    pytest.param(4, 0.5, [1, 3], id="half")])
def test_split_holds_out_an_even_deterministic_fraction(num_shards, fraction, held):
  manifest = {"shards": [{"file": data.shard_name(i)} for i in range(num_shards)]}
  train, evaluation = data.split_shards(manifest, fraction)
  assert evaluation == [data.shard_name(i) for i in held]
  assert train == [data.shard_name(i) for i in range(num_shards) if i not in held]


def test_split_keeps_a_shards_side_when_more_data_arrives():
  small = {"shards": [{"file": data.shard_name(i)} for i in range(30)]}
  large = {"shards": [{"file": data.shard_name(i)} for i in range(100)]}
  assert set(data.split_shards(small, 0.1)[1]) <= set(data.split_shards(large, 0.1)[1])


def test_dataset_yields_only_valid_pairs_with_documented_shapes(tmp_path):
  writer = data.ShardWriter(str(tmp_path), header())
  shards = [make_shard(STEP_TYPES, seed=s) for s in range(2)]
  for shard in shards:
    writer.write(shard)
  writer.close()
  dataset = streaming.transitions_dataset(str(tmp_path), ["shard-00000.npz", "shard-00001.npz"], batch_size=6,
                                     seed=0, shuffle_buffer=50)
  batches = list(dataset.take(20))
  expected_shapes = dict(frame=(6, H, W, 3), action=(6,), next_frame=(6, H, W, 3), reward=(6,), events=(6, E))
  for key, shape in expected_shapes.items():
    assert tuple(batches[0][key].shape) == shape
  valid = {}
  for shard in shards:
    pairs = data.transitions(shard)
    for i in range(len(pairs["action"])):
      valid[pairs["frame"][i].tobytes()] = pairs["next_frame"][i].tobytes()
  seen = set()
  for batch in batches:
    for frame, next_frame in zip(batch["frame"].numpy(), batch["next_frame"].numpy()):
      assert valid[frame.tobytes()] == next_frame.tobytes()  # Never a LAST -> FIRST pair.
      seen.add(frame.tobytes())
  assert len(seen) == len(valid)  # 120 draws from 18 pairs repeated epoch after epoch.
  again = list(streaming.transitions_dataset(str(tmp_path), ["shard-00000.npz", "shard-00001.npz"], 6, seed=0,
                                        shuffle_buffer=50).take(20))
  for a, b in zip(batches, again):
    np.testing.assert_array_equal(a["frame"].numpy(), b["frame"].numpy())


def test_dataset_without_training_shards_is_refused(tmp_path):
  with pytest.raises(ValueError, match="No training shards"):
    streaming.transitions_dataset(str(tmp_path), [], batch_size=4)


def test_a_manifest_without_shards_does_not_block_a_corrected_rerun(tmp_path):
  # A collection that failed before its first shard (bad agent flags) left only a manifest.
  data.ShardWriter(str(tmp_path), header(policy="random")).close()
  writer = data.ShardWriter(str(tmp_path), header(policy={"agent_checkpoint": "/runs/a"}))
  assert writer.manifest["policy"] == {"agent_checkpoint": "/runs/a"}
  writer.write(make_shard(STEP_TYPES))
  writer.close()
  assert data.read_manifest(str(tmp_path))["policy"] == {"agent_checkpoint": "/runs/a"}
  with pytest.raises(ValueError, match="holds data with policy="):
    data.ShardWriter(str(tmp_path), header(policy="random"))


def test_unreadable_shards_are_found_from_their_zip_directories(tmp_path):
  writer = data.ShardWriter(str(tmp_path), header())
  for seed in range(3):
    writer.write(make_shard(STEP_TYPES, seed=seed))
  writer.close()
  names = [e["file"] for e in data.read_manifest(str(tmp_path))["shards"]]
  assert streaming.unreadable_shards(str(tmp_path), names) == {}
  raw = (tmp_path / names[1]).read_bytes()
  (tmp_path / names[1]).write_bytes(raw[:len(raw) // 2])
  os.remove(tmp_path / names[2])
  bad = streaming.unreadable_shards(str(tmp_path), names)
  assert sorted(bad) == names[1:] and "shard-00001.npz" in bad[names[1]]


def test_repeat_rare_rewards_repeats_only_the_uncommon_rewards_in_place():
  pairs = dict(reward=np.array([-0.1, 10.9, -0.1, -0.1, -1.1], np.float32), action=np.arange(5, dtype=np.int32))
  out = streaming.repeat_rare_rewards(pairs, 3)
  np.testing.assert_array_equal(out["action"], [0, 1, 1, 1, 2, 3, 4, 4, 4])
  np.testing.assert_array_equal(out["reward"], pairs["reward"][out["action"]])
  assert streaming.repeat_rare_rewards(pairs, 1)["action"].tolist() == list(range(5))


def test_stream_with_rare_reward_repeats_draws_rare_pairs_that_much_more_often(tmp_path):
  writer = data.ShardWriter(str(tmp_path), header())
  shard = make_shard([[FIRST] * 4] + [[MID] * 4] * 49 + [[LAST] * 4], seed=3)
  shard["reward"][:] = -0.1
  shard["reward"][5, :2] = 10.9  # 2 of the shard's 4 * 50 = 200 training pairs.
  writer.write(shard)
  writer.close()

  def rare_fraction(repeats):
    stream = streaming.transitions_dataset(str(tmp_path), ["shard-00000.npz"], batch_size=50, seed=0,
                                           shuffle_buffer=50, rare_reward_repeats=repeats)
    rewards = np.concatenate([b["reward"].numpy() for b in stream.take(40)])  # 2,000 draws.
    return np.mean(rewards > 1)

  # Epochs of 200 pairs (2 rare) against 238 pairs (40 rare): 1% against 16.8% of the draws, exactly
  # up to the 50-pair shuffle buffer and the last partial epoch (2,000 draws are 10 and 8.4 epochs).
  assert rare_fraction(1) == pytest.approx(0.01, abs=0.003)
  assert rare_fraction(20) == pytest.approx(40 / 238, abs=0.02)
