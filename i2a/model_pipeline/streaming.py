"""Streaming environment-model training data: a tf.data pipeline of training pairs from shards, and a
cheap check for shards that cannot be read (see `data` for the format)."""
import os
import zipfile
from typing import Optional, Sequence

import numpy as np
import tensorflow as tf

from i2a.model_pipeline.data import DTYPES
from i2a.model_pipeline.data import read_manifest
from i2a.model_pipeline.data import read_shard
from i2a.model_pipeline.data import transitions


def unreadable_shards(directory: str, names: Sequence[str]) -> dict[str, str]:
  """{name: problem} for the shards among `names` whose file is missing or whose zip directory is
  damaged or lacks an array (a truncated file, say). Reads only the directories: cheap for any size."""
  bad = {}
  for name in names:
    path = os.path.join(directory, name)
    try:
      with zipfile.ZipFile(path) as archive:
        missing = sorted(set(DTYPES) - {member[:-len(".npy")] for member in archive.namelist()})
      if missing:
        bad[name] = f"data shard {path} lacks the arrays {missing}"
    except (OSError, zipfile.BadZipFile) as error:
      bad[name] = f"Cannot read data shard {path}: {error}"
  return bad


def repeat_rare_rewards(pairs: dict, repeats: int) -> dict:
  """`pairs` with every pair whose reward is not the most common reward repeated `repeats` times in
  place (order otherwise kept). float32 rewards are compared exactly: they come from one table."""
  values, counts = np.unique(pairs["reward"], return_counts=True)
  rare = pairs["reward"] != values[np.argmax(counts)]
  index = np.repeat(np.arange(len(rare)), np.where(rare, repeats, 1))
  return {k: v[index] for k, v in pairs.items()}


def repeat_rare_events(pairs: dict, repeats) -> dict:
  """`pairs` with every pair repeated in place as often as the largest `repeats[e]` of the events e it
  holds (1 for a pair with none of them); order otherwise kept.

  Args:
    pairs: dict of arrays [M, ...] with events float32 [M, E] (0/1).
    repeats: E ints >= 1, e.g. MiniPacman's (1, 1, 4, 20, 8) for (step, food, pill, ghost, death).
  """
  times = np.max(np.where(pairs["events"] > 0.5, np.asarray(repeats)[None, :], 1), axis=1, initial=1)
  index = np.repeat(np.arange(len(times)), times)
  return {k: v[index] for k, v in pairs.items()}


def transitions_dataset(directory: str, names: Sequence[str], batch_size: int, seed: Optional[int] = None,
                        shuffle_buffer: int = 20_000, cycle_length: int = 4,
                        errors: Optional[dict] = None, rare_reward_repeats: int = 1,
                        event_repeats: Optional[Sequence[int]] = None) -> tf.data.Dataset:
  """An endless, shuffled stream of batches of valid training pairs from the shards `names`.

  Shard order is reshuffled every epoch, `cycle_length` shards are read at once and their pairs mixed
  in a shuffle buffer; batches are prefetched. Deterministic for a given seed.

  A shard that cannot be read contributes no pairs and is recorded in `errors` ({name: problem}); the
  caller decides whether to stop. (An exception raised inside the pipeline's threads instead left the
  process hanging at exit in some runs.) Without `errors`, such a shard raises ValueError as before.

  With `rare_reward_repeats` k > 1 every pair whose reward differs from its shard's most common reward
  enters the stream k times (before shuffling): rare rewards are seen k times as often. With
  `event_repeats` (E ints) a pair enters it as often as the largest count of the events it holds
  (`repeat_rare_events`): MiniPacman's eaten ghosts and deaths are seen that much more often.

  Returns:
    A dataset of dicts as `transitions` returns, each with a leading batch axis of `batch_size`.
  """
  if not names:
    raise ValueError(f"No training shards in {directory!r} (collect more data or lower eval_fraction).")
  if batch_size < 1:
    raise ValueError(f"batch_size must be >= 1, got {batch_size}")
  manifest = read_manifest(directory)
  frame_shape, num_events = tuple(manifest["frame_shape"]), manifest["num_events"]
  if event_repeats is not None and (len(event_repeats) != num_events or min(event_repeats) < 1):
    raise ValueError(f"event_repeats needs {num_events} counts >= 1 (the data's events "
                     f"{manifest.get('event_names')}), got {list(event_repeats)}.")
  keys = ("frame", "action", "next_frame", "reward", "events")
  dtypes = (tf.uint8, tf.int32, tf.uint8, tf.float32, tf.float32)
  shapes = ((None, *frame_shape), (None,), (None, *frame_shape), (None,), (None, num_events))

  def load(path):
    name = os.path.basename(path.decode())
    try:
      pairs = transitions(read_shard(directory, name, manifest))
    except ValueError as error:
      if errors is None:
        raise
      errors[name] = str(error)
      pairs = dict(frame=np.zeros((0, *frame_shape), np.uint8), action=np.zeros(0, np.int32),
                   next_frame=np.zeros((0, *frame_shape), np.uint8), reward=np.zeros(0, np.float32),
                   events=np.zeros((0, num_events), np.float32))
    if rare_reward_repeats > 1 and len(pairs["reward"]):
      pairs = repeat_rare_rewards(pairs, rare_reward_repeats)
    if event_repeats is not None and len(pairs["reward"]):
      pairs = repeat_rare_events(pairs, event_repeats)
    return tuple(pairs[k] for k in keys)

  def shard_pairs(path):
    arrays = tf.numpy_function(load, [path], dtypes, stateful=False)
    for array, shape in zip(arrays, shapes):
      array.set_shape(shape)
    return tf.data.Dataset.from_tensor_slices(dict(zip(keys, arrays)))

  paths = [os.path.join(directory, n) for n in names]
  dataset = tf.data.Dataset.from_tensor_slices(paths).shuffle(len(paths), seed=seed).repeat()
  dataset = dataset.interleave(shard_pairs, cycle_length=min(cycle_length, len(paths)),
                               num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
  dataset = dataset.shuffle(shuffle_buffer, seed=seed).batch(batch_size, drop_remainder=True)
  return dataset.prefetch(tf.data.AUTOTUNE)
