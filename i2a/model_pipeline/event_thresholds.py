"""Per-event decision thresholds of a MiniPacman event model, chosen on a separate calibration collection.

Issue 23 gates the event model at 90% precision and recall for every event "at the model's decision
threshold". A threshold of 0.5 maximises accuracy, not the balance of precision and recall of a rare
event (an eaten ghost is 0.26% of the pairs, and training streams it five times). A classifier's
threshold is part of the model, but only if it is chosen on data the test never sees: here a fresh
`launch.collect` of the same mixture with another seed, never the held-out shards (WORKSPACE.md,
deviation 46). The thresholds are stored in the exported model's metadata (`env_model.json`) and read
back with 0.5 for every event an older export does not name.

    thresholds, calibration = event_thresholds.calibrate(model, "/data/calibration", 50_000)
    report = dict(event_metrics.event_report(model, pairs, windows, thresholds=thresholds),
                  calibration=calibration)
    metadata = dict(metadata, **event_thresholds.metadata_entries(report))
"""
import os

import numpy as np
import sonnet as snt

from i2a.model_pipeline import data as model_data
from i2a.model_pipeline import event_metrics

DEFAULT = event_metrics.THRESHOLD  # 0.5: an event with no calibration support keeps it.
METADATA_KEY = "event_thresholds"  # env_model.json: {event name: threshold}.
CALIBRATION_KEY = "event_calibration"  # env_model.json: where and on how many pairs they were chosen.


def _scores(probs: np.ndarray, positive: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
  """float64 [C]: min(precision, recall) of predicting p > t, for each of the C thresholds t, of
  probabilities [M] against booleans [M] with at least one True. No prediction scores 0."""
  ordered, ordered_positive = np.sort(probs), np.sort(probs[positive])
  predicted = len(probs) - np.searchsorted(ordered, thresholds, side="right")
  hits = len(ordered_positive) - np.searchsorted(ordered_positive, thresholds, side="right")
  precision = np.divide(hits, predicted, out=np.zeros(len(thresholds)), where=predicted > 0)
  return np.minimum(precision, hits / len(ordered_positive))


def choose(probs: np.ndarray, events: np.ndarray) -> np.ndarray:
  """Per event, the threshold t that maximises min(precision, recall) of predicting p > t.

  The candidates are 0.5 and the midpoints between consecutive distinct values of {0, 1, the event's
  probabilities}: every set of predictions a threshold in [0, 1] can make, each represented by the
  point farthest from the calibration probabilities around it, or by 0.5 where 0.5 makes it. Among
  equal scores (IEEE division is correctly rounded, so equal ratios are equal) the candidate closest to
  0.5 wins, and the lower of two equally close. An event with no real occurrence keeps 0.5.

  Args:
    probs: float [M, E], the model's event probabilities on calibration pairs.
    events: float [M, E], their real events (0 or 1).

  Returns:
    float64 [E], one threshold per event.
  """
  probs, events = np.asarray(probs, np.float64), np.asarray(events)
  if probs.shape != events.shape or probs.ndim != 2 or probs.shape[1] != len(event_metrics.EVENTS):
    raise ValueError(f"choose: need probs and events [M, {len(event_metrics.EVENTS)}], got {probs.shape} "
                     f"and {events.shape}")
  out = event_metrics.default_thresholds()
  for i in range(probs.shape[1]):
    positive = events[:, i] > 0.5
    if not positive.any():
      continue
    values = np.unique(np.concatenate([probs[:, i], [0.0, 1.0]]))
    candidates = np.concatenate([[DEFAULT], (values[:-1] + values[1:]) / 2])
    scores = _scores(probs[:, i], positive, candidates)
    best = candidates[scores == scores.max()]
    distance = np.abs(best - DEFAULT)
    out[i] = best[distance == distance.min()].min()
  return out


def check_calibration_data(calibration_dir: str, data_dir: str) -> dict:
  """The calibration collection's manifest, after checking that it is MiniPacman data of the same
  frames, actions and events as the training data, and a separate collection: another directory and
  another seed (the same seed and mixture replays the same episodes).

  Raises:
    ValueError: naming the mismatch.
  """
  calibration, training = model_data.read_manifest(calibration_dir), model_data.read_manifest(data_dir)
  if calibration["game"] != "minipacman" or training["game"] != "minipacman":
    raise ValueError(f"Calibration data chooses MiniPacman's per-event thresholds; {calibration_dir!r} holds "
                     f"{calibration['game']} data and the training data {training['game']} data.")
  if os.path.realpath(calibration_dir) == os.path.realpath(data_dir):
    raise ValueError(f"The calibration data {calibration_dir!r} is the training data: its held-out shards "
                     "are the test. Collect a separate set with another --seed.")
  if calibration["seed"] == training["seed"]:
    raise ValueError(f"The calibration data {calibration_dir!r} was collected with the training data's seed "
                     f"{training['seed']}, so it may replay the same episodes: collect it with another --seed.")
  for key in ("frame_shape", "num_actions", "event_names", "palette"):
    if calibration.get(key) != training.get(key):
      raise ValueError(f"The calibration data {calibration_dir!r} has {key} {calibration.get(key)}, the "
                       f"training data {training.get(key)}.")
  return calibration


def calibrate(model: snt.Module, calibration_dir: str, max_pairs: int,
              batch_size: int = 256) -> tuple[np.ndarray, dict]:
  """Chooses the thresholds on the first `max_pairs` pairs of every shard of `calibration_dir`.

  Returns:
    thresholds float64 [E], and a JSON-able record: the directory, the number of pairs, and the
    calibration precision and recall at those thresholds.
  """
  names = [shard["file"] for shard in model_data.read_manifest(calibration_dir)["shards"]]
  pairs, _ = event_metrics.held_out(calibration_dir, names, max_pairs, 0, depth=1)
  probs = event_metrics.one_step_probs(model, pairs["frame"], pairs["action"], batch_size)
  thresholds = choose(probs, pairs["events"])
  return thresholds, dict(data=os.path.abspath(calibration_dir), num_pairs=len(probs),
                          one_step=event_metrics.precision_recall(probs, pairs["events"], thresholds))


def metadata_entries(report: dict) -> dict:
  """What the export's metadata stores of an `event_metrics.event_report` whose 'calibration' is
  `calibrate`'s record or None: {METADATA_KEY: {event: threshold}, CALIBRATION_KEY: the directory and
  number of pairs they were chosen on, or None for the defaults}."""
  calibration = report["calibration"]
  chosen_on = None if calibration is None else dict(data=calibration["data"], num_pairs=calibration["num_pairs"])
  return {METADATA_KEY: dict(report["thresholds"]), CALIBRATION_KEY: chosen_on}


def from_metadata(metadata: dict) -> np.ndarray:
  """float64 [E]: the thresholds an exported model's metadata stores; 0.5 for every event it does not
  name (exports written before thresholds were chosen name none)."""
  stored = metadata.get(METADATA_KEY) or {}
  unknown = sorted(set(stored) - set(event_metrics.EVENTS))
  if unknown:
    raise ValueError(f"The environment model's {METADATA_KEY} name unknown events {unknown}.")
  return np.array([float(stored.get(name, DEFAULT)) for name in event_metrics.EVENTS])
