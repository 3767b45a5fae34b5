"""Environment-model data from a mixture of policies (issue 23): each source plays exactly its fraction
of the steps, the manifest counts every event per source, the ghost hunter eats ghosts, and rare events
are streamed as often as asked."""
import os

import numpy as np
import pytest

from envs import minipacman
from i2a import games
from i2a.model_pipeline import collection
from i2a.model_pipeline import data as model_data
from i2a.model_pipeline import event_counts
from i2a.model_pipeline import hunter
from i2a.model_pipeline import mixture
from i2a.model_pipeline import streaming
from i2a.training import environments
from i2a.training import inference

GEOMETRY, ENV = games.Geometry("minipacman"), environments.EnvConfig(frame_cap=40)


def _stay(timestep):
  return np.zeros(len(timestep.step_type), np.int32)


def test_each_source_plays_exactly_its_fraction_and_the_manifest_counts_its_events(tmp_path):
  fractions = {"random": 0.5, "hunter": 0.25, "stay": 0.25}
  counts = mixture.copies_per_source(list(fractions.values()), 8)
  ranges = mixture.copy_ranges(counts)
  policy = {"mixture": [dict(source=n, fraction=f, copies=list(r))
                        for (n, f), r in zip(fractions.items(), ranges)]}
  writer = model_data.ShardWriter(str(tmp_path), collection.data_header(GEOMETRY, ENV, policy, 5))
  mixed = mixture.MixedPolicy([inference.UniformActions(5, 5), hunter.GhostHunter(5), _stay], counts)
  collection.collect(environments.build_env(GEOMETRY, ENV, 8, seed=5), mixed, writer, num_transitions=400,
                     shard_size=64)
  writer.close()
  manifest = model_data.read_manifest(str(tmp_path))
  shards = [model_data.read_shard(str(tmp_path), e["file"], manifest) for e in manifest["shards"]]
  assert counts == [4, 2, 2] and manifest["num_steps"] == 448
  assert {n: s / manifest["num_steps"] for n, s in manifest["steps_by_source"].items()} == fractions
  for shard in shards:  # The 'stay' source plays copies 6 and 7, and only those.
    assert (shard["action"][:-1, 6:] == 0).all() and (shard["action"][:-1, :6] != 0).any()
  # Event counts against a NumPy count over the valid pairs of every shard, per source and in total.
  for name, (a, b) in model_data.mixture_copies(manifest).items():
    expected = sum(s["events"][1:, a:b][s["step_type"][1:, a:b] != 0].sum(axis=0) for s in shards)
    assert manifest["event_counts_by_source"][name] == expected.astype(int).tolist()
  total = sum(s["events"][1:][s["step_type"][1:] != 0].sum(axis=0) for s in shards).astype(int).tolist()
  assert manifest["event_counts"] == total and total[0] == manifest["num_transitions"]
  assert event_counts.event_totals(manifest) == dict(zip(minipacman.EVENT_NAMES, total))


def test_collect_binary_takes_a_mixture_and_records_it(tmp_path, parse_flags):
  from launch import collect  # pylint: disable=g-import-not-at-top
  fv = parse_flags(collect, "--game=minipacman", "--mixture=random=0.75,hunter=0.25", "--num_envs=4",
                   "--shard_size=32", "--num_transitions=64", f"--output_dir={tmp_path}", "--seed=2")
  manifest = collect.run_with_flags(fv)
  assert manifest["policy"] == {"mixture": [dict(source="random", fraction=0.75, copies=[0, 3]),
                                            dict(source="hunter", fraction=0.25, copies=[3, 4])]}
  assert manifest["steps_by_source"] == {"random": 48, "hunter": 16}


@pytest.mark.parametrize("items,message", [
    pytest.param(["random=0.5", "hunter=0.4"], "sum to 1", id="sum"),
    pytest.param(["random"], "not SOURCE=FRACTION", id="no_fraction"),
    pytest.param(["random=half"], "not SOURCE=FRACTION", id="not_a_number"),
    pytest.param(["random=0.5", "random=0.5"], "twice", id="twice"),
    pytest.param(["random=1.5", "hunter=-0.5"], r"in \(0, 1\]", id="range")])
def test_bad_mixtures_are_refused_with_the_reason(items, message):
  with pytest.raises(ValueError, match=message):
    mixture.parse_mixture(items)


def test_fractions_that_are_not_whole_copies_name_a_num_envs_that_works():
  assert mixture.copies_per_source([0.5, 0.25, 0.25], 4) == [2, 1, 1]
  with pytest.raises(ValueError, match="multiple of 10"):
    mixture.copies_per_source([0.7, 0.3], 16)


def test_first_move_follows_a_shortest_path_through_the_maze():
  # Row 1 of the map is '#...#.........#...#': (1, 1) reaches (1, 3) by going right, and (1, 5) only
  # around the wall at (1, 4), through row 3: first down, from (1, 3) after going right... shortest is
  # right, right, down, down, right, right, up, up (8 moves) against down first (also 8): right wins ties.
  assert hunter.first_move((1, 1), {(1, 3)}) == minipacman.RIGHT
  assert hunter.first_move((1, 3), {(1, 1)}) == minipacman.LEFT
  assert hunter.first_move((3, 1), {(1, 1)}) == minipacman.UP
  assert hunter.first_move((1, 1), {(1, 1)}) == minipacman.STAY
  assert hunter.first_move((1, 1), {(0, 0)}) is None  # A wall cell is never reached.


def _ghosts_eaten(policy, seed):
  env = environments.build_env(GEOMETRY, environments.EnvConfig(), 8, seed=seed)
  timestep, eaten = env.reset(), 0
  for _ in range(600):
    timestep = env.step(policy(timestep))
    eaten += int(timestep.observation["events"][timestep.step_type != 0, 3].sum())
  return eaten


def test_the_hunter_eats_far_more_ghosts_than_random_play():
  # 4,800 steps: random play eats about 1 ghost in 6,000 steps, the hunter about 1 in 150 (30-40 here).
  hunted, random = _ghosts_eaten(hunter.GhostHunter(3), 3), _ghosts_eaten(inference.UniformActions(5, 3), 3)
  assert hunted >= 10 and hunted >= 5 * max(random, 1), (hunted, random)


def test_repeat_rare_events_repeats_each_pair_by_its_rarest_event():
  events = np.array([[1, 0, 0, 0, 0], [1, 1, 0, 0, 0], [1, 0, 0, 1, 1], [1, 0, 1, 0, 0], [0, 0, 0, 0, 0]],
                    np.float32)
  pairs = dict(events=events, action=np.arange(5, dtype=np.int32))
  out = streaming.repeat_rare_events(pairs, (1, 1, 3, 10, 4))
  expected = [0, 1] + [2] * 10 + [3] * 3 + [4]  # Pair 2 holds a ghost (10) and a death (4): 10.
  np.testing.assert_array_equal(out["action"], expected)
  np.testing.assert_array_equal(out["events"], events[expected])


def test_the_event_pipeline_flag_files_parse_and_their_mixture_fills_the_copies(parse_flags, monkeypatch):
  from launch import collect, train_env_model  # pylint: disable=g-import-not-at-top
  monkeypatch.chdir(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
  fv = parse_flags(collect, "--flagfile=launch/configs/study_minipacman_events_collect.flags")
  data = (fv.mixture, fv.seed, fv.output_dir)  # Read now: each parse_flags resets the flags.
  sources = mixture.parse_mixture(fv.mixture)
  assert [s.source for s in sources][2:] == ["hunter", "random"] and all(s.is_agent for s in sources[:2])
  assert mixture.copies_per_source([s.fraction for s in sources], fv.num_envs) == [4, 2, 8, 2]
  config = train_env_model.config_from_flags(
      parse_flags(train_env_model, "--flagfile=launch/configs/study_minipacman_events_env_model.flags"))
  assert config.event_repeats == (1, 1, 2, 5, 2) and config.eval_fraction == 0.1
  # Stage 2b: the same mixture under another seed, where stage 3 chooses its thresholds.
  stage3 = parse_flags(train_env_model, "--flagfile=launch/configs/study_minipacman_events_env_model.flags")
  stage3 = (stage3.data, stage3.calibration_data)
  calibration = parse_flags(collect, "--flagfile=launch/configs/study_minipacman_events_calibration.flags")
  assert calibration.mixture == data[0] and calibration.seed != data[1]
  assert stage3 == (data[2], calibration.output_dir) and calibration.output_dir != data[2]
