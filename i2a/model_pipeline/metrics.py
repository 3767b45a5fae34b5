"""Held-out measures of an environment model the way I2A uses it (paper Sec. 3.2 and Fig. 5): one-step
pixel error and reward or event accuracy, the error of k-step open-loop rollouts (the model fed its own
frames with the real actions, which is what I2A consumes), each beside the copy model's."""
import numpy as np
import sonnet as snt
import tensorflow as tf

from envs import minipacman
from envs import sokoban
from i2a import rollouts
from i2a.env_models import minipacman_model
from i2a.env_models import model_losses
from i2a.env_models.copy_model import CopyModel
from i2a.model_pipeline import pictures
from i2a.model_pipeline.training import float_frames
from i2a.model_pipeline.training import model_targets

# Row labels of the imagination pictures, from the games' own action lists.
ACTION_NAMES = {"minipacman": tuple(minipacman.ACTION_NAMES), "sokoban": tuple(sokoban.ACTION_NAMES)}


def one_step_metrics(model: snt.Module, pairs: dict, batch_size: int = 256) -> dict:
  """Held-out one-step metrics of `model` on the pairs of `model_data.transitions`.

  Returns:
    pixel_error (fraction of pixels of the wrong colour, `model_losses.frame_error_rate`), and for
    event models event_accuracy/<event> (threshold 0.5), event_accuracy (all 5 right) and
    event_recall/<event> (events that occurred at least once); for reward-bin models reward_accuracy
    (the most probable bin is the nearest bin of the true reward) and reward_recall/<bin value> for every
    bin that occurs (Sokoban's rare +1/-1/+10 steps hide in the overall accuracy).
  """
  reward_kind = "none" if isinstance(model, CopyModel) else model_targets(model).reward
  errors, event_probs, bin_hits, true_bins = [], [], [], []
  for start in range(0, len(pairs["action"]), batch_size):
    batch = {k: v[start:start + batch_size] for k, v in pairs.items()}
    out = model(float_frames(batch["frame"]), tf.constant(batch["action"], tf.int32))
    errors.append(model_losses.frame_error_rate(out.frame, float_frames(batch["next_frame"])).numpy())
    if reward_kind == "events":
      event_probs.append(out.reward_bins.numpy())
    elif reward_kind == "bins":
      true_bin = model_losses.reward_bin_indices(batch["reward"], model_targets(model).reward_bins).numpy()
      bin_hits.append(np.argmax(out.reward_bins.numpy(), axis=-1) == true_bin)
      true_bins.append(true_bin)
  metrics = dict(pixel_error=float(np.mean(np.concatenate(errors))))
  if event_probs:
    predicted, actual = np.concatenate(event_probs) > 0.5, pairs["events"] > 0.5
    event_hits = predicted == actual
    metrics["event_accuracy"] = float(np.mean(event_hits.all(axis=1)))
    for i, name in enumerate(minipacman_model.EVENTS):
      metrics[f"event_accuracy/{name}"] = float(np.mean(event_hits[:, i]))
      if actual[:, i].any():
        metrics[f"event_recall/{name}"] = float(np.mean(predicted[actual[:, i], i]))
  if bin_hits:
    hits, true_bin = np.concatenate(bin_hits), np.concatenate(true_bins)
    metrics["reward_accuracy"] = float(np.mean(hits))
    for i, value in enumerate(model_targets(model).reward_bins):
      if (true_bin == i).any():
        metrics[f"reward_recall/{value:g}"] = float(np.mean(hits[true_bin == i]))
  return metrics


def rollout_errors(model: snt.Module, frames: np.ndarray, actions: np.ndarray,
                   batch_size: int = 256) -> np.ndarray:
  """Pixel error of open-loop rollouts: the model fed its own frames with the real actions.

  Args:
    model: an environment model, `model(frame_stack, action).frame`.
    frames: uint8 [M, K+1, H, W, 3], real frames t..t+K of windows within one episode.
    actions: int [M, K], the real actions t..t+K-1.

  Returns:
    float64 [K]: entry k-1 is the mean over windows of the fraction of wrong pixels of the k-th imagined
    frame against the real frame t+k (`model_losses.frame_error_rate`).
  """
  frames, actions = np.asarray(frames), np.asarray(actions)
  if actions.ndim != 2 or frames.ndim != 5 or frames.shape[:2] != (len(actions), actions.shape[1] + 1):
    raise ValueError(f"rollout_errors: need frames [M, K+1, H, W, 3] and actions [M, K], got "
                     f"{frames.shape} and {actions.shape}")
  depth, totals = actions.shape[1], np.zeros(actions.shape[1])
  if len(frames) == 0:
    return np.full(depth, np.nan)
  for start in range(0, len(frames), batch_size):
    window, acts = frames[start:start + batch_size], actions[start:start + batch_size]
    imagined = rollouts.open_loop(model, float_frames(window[:, 0]), tf.constant(acts, tf.int32)).frames
    for k in range(depth):
      totals[k] += model_losses.frame_error_rate(imagined[:, k], float_frames(window[:, k + 1])).numpy().sum()
  return totals / len(frames)


def picture(model: snt.Module, frames: np.ndarray, actions: np.ndarray, game: str):
  """The imagination grid of one held-out window: real frames, then one rollout per first action whose
  later actions are the window's real ones (so the row marked '*' replays the real actions)."""
  depth = actions.shape[0]
  imagined, _ = pictures.rollouts_per_action(model, frames[0], len(ACTION_NAMES[game]), depth,
                                             later_actions=actions[1:])
  rows, labels = pictures.imagination_rows(frames, imagined, int(actions[0]), ACTION_NAMES[game])
  return pictures.grid_image(rows, labels, pictures.upscale_factor(*frames.shape[1:3]))


def evaluate(model, eval_data, game: str) -> tuple[dict, object]:
  """Held-out metrics of `model` on `eval_data` (pairs, windows) and a picture of one window (or None)."""
  pairs, (frames, actions) = eval_data
  metrics = one_step_metrics(model, pairs)
  for k, error in enumerate(rollout_errors(model, frames, actions), start=1):
    metrics[f"rollout_error/{k}"] = float(error)
  return metrics, (picture(model, frames[0], actions[0], game) if len(frames) else None)


def copy_baseline(eval_data) -> dict:
  """The same errors for the copy model (predicts 'nothing changes'), the bar a useful model must clear."""
  pairs, (frames, actions) = eval_data
  copy = CopyModel(num_reward_bins=0)
  metrics = dict(pixel_error=one_step_metrics(copy, pairs)["pixel_error"])
  for k, error in enumerate(rollout_errors(copy, frames, actions), start=1):
    metrics[f"rollout_error/{k}"] = float(error)
  return metrics
