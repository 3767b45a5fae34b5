"""The training loop's reporting: episode statistics per window and the progress line (the TensorBoard
scalars are `summaries.write_scalars`).

The progress line reports frames, frames/s, mean episode return, the Sokoban solve rate (fraction of
episodes ending with discount 0, paper Fig. 4's metric), the policy lag and the time left.
"""
import time

import numpy as np


class Window:
  """Episode and learner statistics since the last progress line.

  Args:
    frames: the learner's frame count when the window opens (frames/s are counted from it).
  """

  def __init__(self, frames: int):
    self.start_time, self.start_frames = time.monotonic(), frames
    self.returns, self.lengths, self.terminal, self.lags, self.logs = [], [], [], [], {}

  def add(self, parts, logs: dict, learner_step: int) -> None:
    for part in parts:
      self.returns.extend(part.episodes.returns)
      self.lengths.extend(part.episodes.lengths)
      self.terminal.extend(part.episodes.terminal)
      self.lags.append(learner_step - part.weights_step)
    for name, value in logs.items():
      self.logs.setdefault(name, []).append(float(value))

  def scalars(self, frames: int, game: str) -> dict:
    elapsed = max(time.monotonic() - self.start_time, 1e-9)
    out = {name: float(np.mean(values)) for name, values in self.logs.items()
           if name not in ("learner_step", "num_frames")}
    out.update(frames_per_second=(frames - self.start_frames) / elapsed, policy_lag=float(np.mean(self.lags)))
    if self.returns:
      out.update(episode_return=float(np.mean(self.returns)), episode_length=float(np.mean(self.lengths)),
                 episodes=float(len(self.returns)))
      if game == "sokoban":  # A level is solved when its episode ends with discount 0 (paper App. D).
        out["solve_rate"] = float(np.mean(self.terminal))
    return out


def progress_line(scalars: dict, frames: int, total: int, game: str) -> str:
  fps = scalars["frames_per_second"]
  eta = max(total - frames, 0) / fps if fps > 0 else float("inf")
  ret = f"{scalars['episode_return']:.2f}" if "episode_return" in scalars else "n/a"
  line = f"frames {frames:,}/{total:,} | {fps:,.0f} frames/s | return {ret}"
  if game == "sokoban":
    line += f" | solved {scalars['solve_rate']:.1%}" if "solve_rate" in scalars else " | solved n/a"
  eta_text = time.strftime("%H:%M:%S", time.gmtime(eta)) if np.isfinite(eta) else "?"
  return line + f" | lag {scalars['policy_lag']:.1f} | ETA {eta_text}"
