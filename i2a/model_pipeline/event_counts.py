"""What a data directory's manifest counts of its events: per shard, in total, and per source of a
mixture of policies (`mixture.py`). The issue behind it: a model can only learn the events its data
holds, so the manifest says how many of each there are (results/README.md section 2).
"""
import numpy as np


def mixture_copies(manifest: dict) -> dict[str, tuple[int, int]]:
  """{source: (first copy, stop)} of data collected from a mixture of policies (`launch.collect
  --mixture`); empty for data of one policy."""
  policy = manifest.get("policy")
  if not isinstance(policy, dict) or "mixture" not in policy:
    return {}
  return {s["source"]: tuple(s["copies"]) for s in policy["mixture"]}


def event_counts(events: np.ndarray, mask: np.ndarray) -> list[int]:
  """int per event: how many valid pairs (mask bool [T, N]) hold it (events float32 [T, N, E])."""
  return events[mask].sum(axis=0).astype(int).tolist()


def added(total, counts):
  """Running totals of a manifest: counts added to total (None: nothing yet)."""
  if isinstance(counts, int):
    return (total or 0) + counts
  return counts if total is None else [int(a) + int(b) for a, b in zip(total, counts)]


def total_counts(manifest: dict) -> list[int]:
  """int per event over every shard of a manifest (data written before the manifest kept totals is
  summed from its shard entries)."""
  counts = manifest.get("event_counts")
  if counts is None:
    counts = [0] * manifest["num_events"]
    for entry in manifest["shards"]:
      counts = added(counts, entry.get("event_counts", [0] * manifest["num_events"]))
  return counts


def event_totals(manifest: dict) -> dict[str, int]:
  """{event name: count} over every shard of a manifest."""
  return dict(zip(manifest.get("event_names", []), total_counts(manifest)))
