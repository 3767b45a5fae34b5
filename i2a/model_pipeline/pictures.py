"""Pictures of imagination: a real rollout next to one imagined rollout per first action.

I2A imagines one rollout per action from the current state (paper Sec. 3.1, Fig. 1): the first action is
fixed, the later ones come from the rollout policy. `rollouts_per_action` computes those rollouts; `grid_image` lays
them out, one row per rollout under the real frames, with small frames (MiniPacman's 15x19) enlarged by
nearest-neighbour so every pixel stays a crisp block; `gif_frames` animates the same grid over time, and
`image_summary` writes a picture to TensorBoard without the tensorboard package.
"""
import io
import math
from typing import Callable, Optional, Sequence

import numpy as np
from PIL import Image
from PIL import ImageDraw
import tensorflow as tf

from i2a import rollouts

GAP = 2  # Pixels between cells and around the grid.
LABEL_WIDTH = 44  # Pixels of the row-label column.
BACKGROUND = (40, 40, 40)
_IMAGES_METADATA = tf.compat.v1.SummaryMetadata(
    plugin_data=tf.compat.v1.SummaryMetadata.PluginData(plugin_name="images"))


def upscale_factor(height: int, width: int, target: int = 96) -> int:
  """The integer enlargement that makes a frame's shorter side at least `target` pixels (>= 1)."""
  return max(1, math.ceil(target / min(height, width)))


def to_uint8(frames) -> np.ndarray:
  """uint8 frames unchanged; float frames in [0, 1] scaled to 0..255 and rounded."""
  frames = np.asarray(frames)
  if frames.dtype == np.uint8:
    return frames
  return np.clip(np.round(frames * 255.0), 0, 255).astype(np.uint8)


def rollouts_per_action(env_model, start_frame, num_actions: int, depth: int,
                        later_actions: Optional[Sequence[int]] = None,
                        policy: Optional[Callable[[tf.Tensor], np.ndarray]] = None
                        ) -> tuple[np.ndarray, np.ndarray]:
  """One imagined rollout per first action, all from `start_frame` (batched over the actions), by the
  one rollout loop (`i2a.rollouts.unroll`).

  Args:
    env_model: `env_model(frame_stack, action) -> EnvModelOutput` (a one-frame stack: the paper's models).
    start_frame: uint8 or float [H, W, 3], a real frame.
    num_actions: A, rollout i starts with action i.
    depth: imagined steps per rollout, >= 1.
    later_actions: int [depth - 1], the actions of steps 2..depth (the same in every rollout), or
    policy: picks the actions of steps 2..depth from the imagined frames: float32 [A, H, W, 3] -> int [A]
      (I2A's rollout policy). Exactly one of the two is needed when depth > 1.

  Returns:
    frames float32 [A, depth, H, W, 3] in [0, 1] (the imagined frames after steps 1..depth) and
    rewards float32 [A, depth], the model's predicted rewards.
  """
  if depth < 1 or num_actions < 1:
    raise ValueError(f"rollouts_per_action: depth and num_actions must be >= 1, got {depth}, {num_actions}")
  if depth > 1 and (later_actions is None) == (policy is None):
    raise ValueError("rollouts_per_action: give exactly one of later_actions and policy for depth > 1")
  if later_actions is not None and len(later_actions) != depth - 1:
    raise ValueError(f"rollouts_per_action: need {depth - 1} later actions, got {len(later_actions)}")
  start = tf.cast(to_uint8(start_frame), tf.float32) / 255.0
  frame_stack = tf.repeat(start[tf.newaxis], num_actions, axis=0)

  def next_action(step: int, frame: tf.Tensor):
    if later_actions is not None:
      return np.full(num_actions, later_actions[step - 1])
    return np.asarray(policy(frame))

  unrolled = rollouts.unroll(env_model, frame_stack, tf.range(num_actions, dtype=tf.int32), depth,
                             next_action)
  return unrolled.frames.numpy(), unrolled.rewards.numpy()


def grid_size(num_rows: int, num_columns: int, height: int, width: int, scale: int) -> tuple[int, int]:
  """(width, height) in pixels of `grid_image` for that many rows and columns of H x W frames."""
  return (LABEL_WIDTH + num_columns * (width * scale + GAP) + GAP,
          num_rows * (height * scale + GAP) + GAP)


def grid_image(rows: Sequence[np.ndarray], labels: Sequence[str], scale: int,
               num_columns: Optional[int] = None) -> Image.Image:
  """Frames laid out in labelled rows; short rows leave their last cells empty.

  Args:
    rows: per row, uint8 or float [T_i, H, W, 3] frames (all of one H and W).
    labels: one text per row, drawn in the label column.
    scale: nearest-neighbour enlargement of every frame.
    num_columns: cells per row; default the longest row.

  Returns:
    An RGB PIL image of size `grid_size(len(rows), num_columns, H, W, scale)`.
  """
  if len(rows) != len(labels) or not rows:
    raise ValueError(f"grid_image: need one label per row and at least one row, got {len(rows)} rows and "
                     f"{len(labels)} labels")
  height, width = np.shape(rows[0])[1:3]
  num_columns = num_columns or max(len(r) for r in rows)
  image = Image.new("RGB", grid_size(len(rows), num_columns, height, width, scale), BACKGROUND)
  draw = ImageDraw.Draw(image)
  cell_w, cell_h = width * scale + GAP, height * scale + GAP
  for r, (row, label) in enumerate(zip(rows, labels)):
    row = to_uint8(row)
    if row.ndim != 4 or row.shape[1:] != (height, width, 3):
      raise ValueError(f"grid_image: row {r} has shape {row.shape}, expected [T, {height}, {width}, 3]")
    top = GAP + r * cell_h
    draw.text((3, top + 2), label, fill=(230, 230, 230))
    for c, frame in enumerate(row[:num_columns]):
      big = np.repeat(np.repeat(frame, scale, axis=0), scale, axis=1)  # Nearest-neighbour enlargement.
      image.paste(Image.fromarray(big), (LABEL_WIDTH + GAP + c * cell_w, top))
  return image


def gif_frames(rows: Sequence[np.ndarray], labels: Sequence[str], scale: int) -> list[Image.Image]:
  """The grid animated over time: GIF frame t shows column t of every row (a one-column grid; a row that
  ended early keeps its last frame) and 't+<t>' under the first label."""
  length = max(len(r) for r in rows)
  images = []
  for t in range(length):
    image = grid_image([r[min(t, len(r) - 1):min(t, len(r) - 1) + 1] for r in rows], labels, scale, 1)
    ImageDraw.Draw(image).text((3, GAP + 14), f"t+{t}", fill=(255, 220, 0))
    images.append(image)
  return images


def save_png(image: Image.Image, path: str) -> str:
  image.save(path, format="PNG")
  return path


def save_gif(images: Sequence[Image.Image], path: str, duration_ms: int = 500) -> str:
  """An endlessly looping animated GIF of `images`, `duration_ms` per frame."""
  if not images:
    raise ValueError("save_gif: no frames")
  images[0].save(path, format="GIF", save_all=True, append_images=list(images[1:]),
                 duration=duration_ms, loop=0)
  return path


def image_summary(writer: tf.summary.SummaryWriter, name: str, image: Image.Image, step: int) -> None:
  """Writes `image` as a TensorBoard image summary (the images plugin's [width, height, PNG] tensor)."""
  buffer = io.BytesIO()
  image.save(buffer, format="PNG")
  tensor = tf.constant([str(image.width), str(image.height), buffer.getvalue()], dtype=tf.string)
  with writer.as_default():
    tf.summary.write(name, tensor, step=step, metadata=_IMAGES_METADATA)
  writer.flush()


def imagination_rows(real_frames: np.ndarray, imagined: np.ndarray, real_first_action: Optional[int],
                     action_names: Sequence[str]) -> tuple[list[np.ndarray], list[str]]:
  """Rows and labels of the standard picture: the real frames, then per first action a its rollout
  preceded by the real start frame; the row of the action really taken is marked with '*'.

  Args:
    real_frames: uint8 [T, H, W, 3], the real start frame and what followed (T <= depth + 1).
    imagined: [A, depth, H, W, 3], from `rollouts_per_action`.
  """
  start = to_uint8(real_frames[:1])
  rows, labels = [to_uint8(real_frames)], ["real"]
  for a in range(len(imagined)):
    rows.append(np.concatenate([start, to_uint8(imagined[a])]))
    name = action_names[a] if a < len(action_names) else f"a={a}"
    labels.append(name + ("*" if a == real_first_action else ""))
  return rows, labels
