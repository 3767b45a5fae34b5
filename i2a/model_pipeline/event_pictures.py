"""A picture of a MiniPacman rollout in which a ghost is eaten: the real frames beside the frames the
model imagines open-loop with the same actions, each with its events written under it (issue 23).

Row 1 shows the real frames t..t+K and, under frame t+k, the events that really happened on the step
into it; row 2 shows the model's frames, each fed its own previous frame and the real action (I2A's
rollouts, paper Sec. 3.1), with the events it predicts (probability above the model's threshold for
that event: `event_thresholds`, 0.5 by default) and their probabilities.

    window = event_pictures.find_event_window(env, hunter.GhostHunter(seed), "ate_ghost", depth=5)
    image = event_pictures.event_picture(model, window, thresholds=event_thresholds.from_metadata(metadata))
    image.save("ghost_eaten.png")
"""
from typing import NamedTuple, Optional

import numpy as np
from PIL import Image
from PIL import ImageDraw
import sonnet as snt
import tensorflow as tf

from envs import batched
from envs import minipacman
from i2a.model_pipeline import event_metrics
from i2a.model_pipeline.training import float_frames

SHORT = {"step": "step", "ate_food": "food", "ate_power_pill": "PILL", "ate_ghost": "GHOST",
         "killed_by_ghost": "DEATH"}  # Labels under the frames; the rare events in capitals.


class EventWindow(NamedTuple):
  """K real steps of one copy: frames uint8 [K+1, H, W, 3], actions int32 [K], events float32 [K, E]
  (events[k] arrived with frames[k+1])."""
  frames: np.ndarray
  actions: np.ndarray
  events: np.ndarray


def find_event_window(env: batched.BatchedEnvironment, policy, event: str, depth: int,
                      max_steps: int = 50_000, position: Optional[int] = None) -> EventWindow:
  """Plays copy 0 of `env` with `policy` until `event` happens at step `position` (0-based) of a window
  of `depth` steps within one episode, and returns that window. `position` None: step 2 (frames before
  the event show it coming), or the window's last step if it is shorter.

  Raises:
    ValueError: the event did not happen within `max_steps` steps, or `position` is not in the window.
  """
  if position is None:
    position = min(2, depth - 1)
  if not 0 <= position < depth:
    raise ValueError(f"position={position} must be in [0, depth={depth}).")
  index = minipacman.EVENT_NAMES.index(event)
  timestep = env.reset()
  frames, actions, events = [timestep.observation["rgb"][0]], [], []
  for _ in range(max_steps):
    action = np.asarray(policy(timestep), np.int32)
    timestep = env.step(action)
    if timestep.step_type[0] == 0:  # A new episode: the window starts afresh.
      frames, actions, events = [timestep.observation["rgb"][0]], [], []
      continue
    frames.append(timestep.observation["rgb"][0])
    actions.append(int(action[0]))
    events.append(np.asarray(timestep.observation["events"][0], np.float32))
    if len(actions) >= position + 1 and events[-1][index] > 0.5:
      start = len(actions) - 1 - position
      if start >= 0:
        stop = start + depth
        while len(actions) < stop and timestep.step_type[0] != 2:  # Play on to the window's end.
          action = np.asarray(policy(timestep), np.int32)
          timestep = env.step(action)
          frames.append(timestep.observation["rgb"][0])
          actions.append(int(action[0]))
          events.append(np.asarray(timestep.observation["events"][0], np.float32))
        if len(actions) >= stop:
          return EventWindow(np.stack(frames[start:stop + 1]), np.asarray(actions[start:stop], np.int32),
                             np.stack(events[start:stop]))
        frames, actions, events = [timestep.observation["rgb"][0]], [], []
  raise ValueError(f"No '{event}' within {max_steps} steps of this policy; try another --seed or policy.")


def _label(events: Optional[np.ndarray], probs: Optional[np.ndarray] = None,
           thresholds: Optional[np.ndarray] = None) -> list[str]:
  """The lines under a frame: each event that happened (or is predicted, with its probability: above
  its threshold, float [E], 0.5 for every event if None)."""
  if thresholds is None:
    thresholds = event_metrics.default_thresholds()
  lines = []
  for i, name in enumerate(minipacman.EVENT_NAMES):
    if name == "step":
      continue
    if probs is None and events[i] > 0.5:
      lines.append(SHORT[name])
    elif probs is not None and probs[i] > thresholds[i]:
      lines.append(f"{SHORT[name]} {probs[i]:.2f}")
  return lines or ["-"]


def event_picture(model: snt.Module, window: EventWindow, scale: int = 8, action_names=None,
                  thresholds: Optional[np.ndarray] = None) -> Image.Image:
  """Two rows, real and imagined (module docstring); frames scaled by `scale`, text under each; an
  imagined event is written when its probability is above its threshold (float [E]; None: 0.5)."""
  action_names = action_names or minipacman.ACTION_NAMES
  depth = len(window.actions)
  imagined_probs = event_metrics.open_loop_probs(model, window.frames[:1], window.actions[None])[0]
  imagined = _imagined_frames(model, window)
  h, w = window.frames.shape[1] * scale, window.frames.shape[2] * scale
  text_h, pad, left = 52, 4, 70
  image = Image.new("RGB", (left + (depth + 1) * (w + pad), 2 * (h + text_h) + 14), (40, 40, 40))
  draw = ImageDraw.Draw(image)
  for row, (name, frames) in enumerate((("real", window.frames), ("imagined", imagined))):
    y = 14 + row * (h + text_h)
    draw.text((4, y + h // 2), name, fill=(255, 255, 255))
    for k in range(depth + 1):
      x = left + k * (w + pad)
      image.paste(Image.fromarray(frames[k]).resize((w, h), Image.NEAREST), (x, y))
      if k == 0:
        draw.text((x, y + h + 2), "start", fill=(200, 200, 200))
        continue
      if row == 0:
        draw.text((x, 2), f"{action_names[window.actions[k - 1]]}", fill=(200, 200, 200))
      lines = _label(window.events[k - 1]) if row == 0 else _label(None, imagined_probs[k - 1], thresholds)
      for j, line in enumerate(lines[:4]):
        draw.text((x, y + h + 2 + 12 * j), line, fill=(255, 220, 80) if line != "-" else (150, 150, 150))
  return image


def _imagined_frames(model: snt.Module, window: EventWindow) -> np.ndarray:
  """uint8 [K+1, H, W, 3]: the real first frame, then the model's open-loop frames."""
  frame, out = float_frames(window.frames[:1]), [window.frames[0]]
  for action in window.actions:
    frame = model(frame, tf.constant([action], tf.int32)).frame
    out.append(np.clip(np.round(frame.numpy()[0] * 255), 0, 255).astype(np.uint8))
  return np.stack(out)
