"""Per-event quality of a MiniPacman environment model on held-out data, at its decision threshold.

One model serves all five tasks, whose rewards are w_task . events (paper Sec. 5), so I2A can imagine a
task's reward only if the model predicts that task's events. Pixel errors and the all-events accuracy
hide a missed rare event (our first model never predicted an eaten ghost: results/README.md section 2),
so each event gets its own precision and recall:
  - one step: the model on real (frame, action) pairs;
  - k = 1..K open-loop steps: the model fed its own frames with the real actions of a held-out window
    (what I2A's rollouts consume, paper Sec. 3.1), scored against the real events of step t+k. A
    window lies within one episode, so a death (which ends it) is real only at k = K: at k < K every
    predicted death is a false positive;
  - per task, the expected imagined reward w . p(events) against the true reward w . events.
Every figure is given at 0.5 and at the model's own per-event thresholds (`event_thresholds`, chosen
on a separate calibration collection; 0.5 where none were chosen). The gate of issue 23: precision and
recall >= 90% for every event on held-out one-step data, at the model's thresholds.

    pairs, windows = event_metrics.held_out(data_dir, eval_names, 50_000, 8_192, depth=5)
    report = event_metrics.event_report(model, pairs, windows, thresholds=thresholds)
    print(event_metrics.format_table(report))
"""
from typing import Optional, Sequence

import numpy as np
import sonnet as snt
import tensorflow as tf

from envs import minipacman
from i2a.model_pipeline import data as model_data
from i2a.model_pipeline.training import float_frames

# The default decision threshold: an event is predicted when p > 0.5, as the model's own
# `predicted_terminal` and `metrics.one_step_metrics` read it. A model may store its own per event.
THRESHOLD = 0.5
GATE = 0.9  # Issue 23: at least 90% precision and 90% recall for every event, one step, held out.
EVENTS = tuple(minipacman.EVENT_NAMES)


def default_thresholds() -> np.ndarray:
  """float64 [E]: THRESHOLD for every event (a model that stores no thresholds of its own)."""
  return np.full(len(EVENTS), THRESHOLD)


def precision_recall(probs: np.ndarray, events: np.ndarray, threshold=THRESHOLD) -> dict:
  """{event: {precision, recall, support, predicted, hits}} of event probabilities against 0/1 events.

  Args:
    probs: float [M, E], the model's event probabilities.
    events: float [M, E], the real events (0 or 1).
    threshold: an event is predicted when its probability is above this: a float, or float [E], one
      per event.

  Returns:
    Per event name: support (real events), predicted (predictions), hits (both), precision =
    hits / predicted and recall = hits / support, each None when its denominator is 0.
  """
  probs, events = np.asarray(probs), np.asarray(events)
  if probs.shape != events.shape or probs.ndim != 2 or probs.shape[1] != len(EVENTS):
    raise ValueError(f"precision_recall: need probs and events [M, {len(EVENTS)}], got {probs.shape} "
                     f"and {events.shape}")
  if np.ndim(threshold) not in (0, 1) or np.size(threshold) not in (1, len(EVENTS)):
    raise ValueError(f"precision_recall: need one threshold or {len(EVENTS)}, got {threshold!r}")
  predicted, actual = probs > np.asarray(threshold), events > 0.5
  table = {}
  for i, name in enumerate(EVENTS):
    hits, n_pred, n_true = int((predicted[:, i] & actual[:, i]).sum()), int(predicted[:, i].sum()), int(
        actual[:, i].sum())
    table[name] = dict(precision=hits / n_pred if n_pred else None, recall=hits / n_true if n_true else None,
                       support=n_true, predicted=n_pred, hits=hits)
  return table


def reward_agreement(probs: np.ndarray, events: np.ndarray,
                     tasks: Sequence[str] = minipacman.TASKS) -> dict:
  """{task: {imagined_mean, true_mean, mean_abs_error}}: the expected imagined reward w . p against the
  true reward w . events, with w each task's weights (paper Sec. 5), over the M rows of [M, E] arrays."""
  out = {}
  for task in tasks:
    weights = minipacman.task_weights(task).astype(np.float64)
    imagined, true = np.asarray(probs, np.float64) @ weights, np.asarray(events, np.float64) @ weights
    out[task] = dict(imagined_mean=float(imagined.mean()) if len(true) else None,
                     true_mean=float(true.mean()) if len(true) else None,
                     mean_abs_error=float(np.abs(imagined - true).mean()) if len(true) else None)
  return out


def one_step_probs(model: snt.Module, frames: np.ndarray, actions: np.ndarray,
                   batch_size: int = 256) -> np.ndarray:
  """float32 [M, E]: the model's event probabilities for uint8 frames [M, H, W, 3] and actions [M]."""
  out = [model(float_frames(frames[i:i + batch_size]), tf.constant(actions[i:i + batch_size], tf.int32))
         .reward_bins.numpy() for i in range(0, len(actions), batch_size)]
  return np.concatenate(out) if out else np.zeros((0, len(EVENTS)), np.float32)


def open_loop_probs(model: snt.Module, first_frames: np.ndarray, actions: np.ndarray,
                    batch_size: int = 256) -> np.ndarray:
  """float32 [M, K, E]: event probabilities of K-step open-loop rollouts, the model fed its own frame
  (its frame head's output, as I2A's rollouts are) with the real actions int [M, K], from real
  uint8 first frames [M, H, W, 3]. (`rollouts.imagine` plays every first action and keeps only the
  task's reward, not the events, so the loop is written out here.)"""
  depth, out = actions.shape[1], []
  for start in range(0, len(actions), batch_size):
    frame, steps = float_frames(first_frames[start:start + batch_size]), []
    for k in range(depth):
      output = model(frame, tf.constant(actions[start:start + batch_size, k], tf.int32))
      steps.append(output.reward_bins.numpy())
      frame = output.frame
    out.append(np.stack(steps, axis=1))
  return np.concatenate(out) if out else np.zeros((0, depth, len(EVENTS)), np.float32)


def held_out(directory: str, names: Sequence[str], max_pairs: int, max_windows: int,
             depth: int) -> tuple[dict, dict]:
  """The first `max_pairs` valid pairs and `max_windows` `depth`-step windows of the shards `names`.

  Returns:
    pairs: frame uint8 [M, H, W, 3], action int32 [M], events float32 [M, E];
    windows: frame uint8 [N, H, W, 3] (the first real frame), actions int32 [N, K], events float32
      [N, K, E] (the real events of steps t+1..t+K).
  """
  manifest = model_data.read_manifest(directory)
  pairs, windows, n_pairs, n_windows = [], [], 0, 0
  for name in names:
    if n_pairs >= max_pairs and n_windows >= max_windows:
      break
    shard = model_data.read_shard(directory, name, manifest)
    p = model_data.transitions(shard)
    pairs.append(dict(frame=p["frame"], action=p["action"], events=p["events"]))
    t, n = model_data.window_starts(shard["step_type"], depth)
    k = np.arange(depth)
    windows.append(dict(frame=shard["frame"][t, n], actions=shard["action"][t[:, None] + k, n[:, None]],
                        events=shard["events"][t[:, None] + k + 1, n[:, None]]))
    n_pairs, n_windows = n_pairs + len(p["action"]), n_windows + len(t)
  if not pairs:
    raise ValueError(f"No held-out shards in {directory!r} for the per-event report.")
  merge = lambda parts, cap: {key: np.concatenate([x[key] for x in parts])[:cap] for key in parts[0]}
  return merge(pairs, max_pairs), merge(windows, max_windows)


def gate_failures(one_step: dict, level: float = GATE) -> list[str]:
  """The events whose one-step precision or recall is below `level` or undefined (no held-out event,
  or none predicted), each as 'name precision/recall'."""
  def text(x):
    return "n/a" if x is None else f"{x:.3f}"
  def failing(row):
    return row["precision"] is None or row["recall"] is None or min(row["precision"], row["recall"]) < level
  return [f"{name} {text(row['precision'])}/{text(row['recall'])}" for name, row in one_step.items()
          if failing(row)]


def event_report(model: snt.Module, pairs: dict, windows: Optional[dict], batch_size: int = 256,
                 thresholds: Optional[np.ndarray] = None) -> dict:
  """Per-event precision and recall (one step and k = 1..K open-loop), imagined against true reward per
  task, and the gate (module docstring). JSON-able.

  'one_step' and 'k_step' are at 0.5; 'at_thresholds' holds the same at `thresholds` (float [E], the
  model's own; None: 0.5 for every event), which are listed under 'thresholds' and which the gate uses.
  """
  thresholds = default_thresholds() if thresholds is None else np.asarray(thresholds, np.float64)
  probs = one_step_probs(model, pairs["frame"], pairs["action"], batch_size)
  report = dict(threshold=THRESHOLD, num_pairs=len(probs), one_step=precision_recall(probs, pairs["events"]),
                rewards=dict(one_step=reward_agreement(probs, pairs["events"])), k_step={},
                thresholds=dict(zip(EVENTS, (float(t) for t in thresholds))),
                at_thresholds=dict(one_step=precision_recall(probs, pairs["events"], thresholds), k_step={}))
  if windows is not None and len(windows["actions"]):
    rollout = open_loop_probs(model, windows["frame"], windows["actions"], batch_size)
    report["num_windows"] = len(rollout)
    for k in range(rollout.shape[1]):
      report["k_step"][str(k + 1)] = precision_recall(rollout[:, k], windows["events"][:, k])
      report["at_thresholds"]["k_step"][str(k + 1)] = precision_recall(rollout[:, k], windows["events"][:, k],
                                                                       thresholds)
      report["rewards"][f"step_{k + 1}"] = reward_agreement(rollout[:, k], windows["events"][:, k])
  failures = gate_failures(report["at_thresholds"]["one_step"])
  report["gate"] = dict(level=GATE, passed=not failures, failing=failures)
  return report


def format_table(report: dict, at_thresholds: bool = False) -> str:
  """A Markdown table: one row per event, precision / recall (support) at one step and at every k, at
  0.5 or (`at_thresholds`) at the model's thresholds, each named in its row."""
  section = report["at_thresholds"] if at_thresholds else report
  ks = sorted(section["k_step"], key=int)
  def cell(row):
    text = lambda x: "n/a" if x is None else f"{100 * x:.1f}%"
    return f"{text(row['precision'])} / {text(row['recall'])} ({row['support']})"
  lines = ["| event | one step: precision / recall (events) | " + " | ".join(f"k={k}" for k in ks) + " |",
           "|---|---|" + "---|" * len(ks)]
  for name in EVENTS:
    label = f"{name} (> {report['thresholds'][name]:.3g})" if at_thresholds else name
    lines.append(f"| {label} | {cell(section['one_step'][name])} | "
                 + " | ".join(cell(section["k_step"][k][name]) for k in ks) + " |")
  return "\n".join(lines)
