"""Collection of environment-model training data: a policy plays N copies of a game and the steps are
written as shards (paper Sec. 3.2: the models are fitted to trajectories of a partially trained agent).

The calling loop of `launch.collect`:
    writer = data.ShardWriter(out, data_header(geometry, env_config, policy_name, seed))
    collect(env, policy, writer, num_transitions, shard_size, Progress(num_transitions, writer.num_steps))

SIGINT/SIGTERM during `collect` write the steps collected so far as a last (shorter) shard and return;
rerunning continues the collection.
"""
import dataclasses
import math
import sys
import time
from typing import Callable, Optional

from absl import logging
import numpy as np

from envs import batched
from envs import minipacman
from i2a import games
from i2a.model_pipeline import data as model_data
from i2a.training import environments
from i2a.training import interrupt

SESSION_SEED_STRIDE = 100_003  # Seed of a (resumed) session: seed + stride * (shards already written).


class Progress:
  """A one-line progress bar on a terminal, a log line every 10% otherwise.

  Args:
    total: steps the collection aims at.
    done: steps already in the data directory (a continued collection starts there).
    stream: where the bar is drawn; a terminal gets the bar, anything else the log lines.
  """

  def __init__(self, total: int, done: int, stream=sys.stderr):
    self._total, self._start_done, self._start = total, done, time.monotonic()
    self._stream, self._last_tenth = stream, -1

  def update(self, done: int) -> None:
    rate = (done - self._start_done) / max(time.monotonic() - self._start, 1e-9)
    eta = max(self._total - done, 0) / rate if rate > 0 else float("inf")
    fraction = min(done / self._total, 1.0)
    text = (f"{done:,}/{self._total:,} steps | {rate:,.0f} steps/s | ETA "
            f"{time.strftime('%H:%M:%S', time.gmtime(eta)) if math.isfinite(eta) else '?'}")
    if self._stream.isatty():
      bar = "#" * int(30 * fraction)
      self._stream.write(f"\r[{bar:<30}] {text}" + ("\n" if fraction >= 1 else ""))
      self._stream.flush()
    elif int(10 * fraction) > self._last_tenth:
      self._last_tenth = int(10 * fraction)
      logging.info("Collected %s", text)


def _row(timestep: batched.BatchedTimeStep, num_events: int) -> dict:
  n = len(timestep.step_type)
  events = timestep.observation.get("events", np.zeros((n, num_events), np.float32))
  return dict(step_type=np.asarray(timestep.step_type, np.uint8), frame=timestep.observation["rgb"],
              action=np.full(n, -1, np.int32), reward=np.asarray(timestep.reward, np.float32),
              discount=np.asarray(timestep.discount, np.float32), events=np.asarray(events, np.float32))


def collect(env: batched.BatchedEnvironment, policy: Callable[[batched.BatchedTimeStep], np.ndarray],
            writer: model_data.ShardWriter, num_transitions: int, shard_size: int,
            progress: Optional[Progress] = None, stop: Optional[interrupt.StopRequest] = None,
            **shard_info) -> int:
  """Plays from `env.reset()` and writes shards of `shard_size` steps until the directory holds at least
  `num_transitions` steps; returns the number of shards written.

  Consecutive shards of one call overlap by one step (the last row of one is the first of the next).
  On SIGINT/SIGTERM (or `stop.request()`), the steps since the last shard are written as a shorter
  shard and the call returns.
  """
  n = env.num_envs
  if shard_size % n:
    raise ValueError(f"shard_size={shard_size} must be a multiple of num_envs={n}.")
  length, num_events = shard_size // n, writer.manifest["num_events"]
  written = 0
  if writer.num_steps >= num_transitions:
    return written
  stop = stop or interrupt.StopRequest()

  def write(rows):
    writer.write({key: np.stack([r[key] for r in rows]) for key in rows[0]}, **shard_info)
    if progress is not None:
      progress.update(writer.num_steps)

  with stop:
    timestep = env.reset()
    rows = [_row(timestep, num_events)]
    while writer.num_steps < num_transitions and not stop.requested:
      action = np.asarray(policy(timestep), np.int32)
      rows[-1]["action"] = action
      timestep = env.step(action)
      rows.append(_row(timestep, num_events))
      if len(rows) == length + 1:
        write(rows)
        written += 1
        rows = [rows[-1]]
    if stop.requested and len(rows) >= 2:  # Keep what was played: a shorter last shard.
      write(rows)
      written += 1
    if stop.requested:
      logging.warning("Stopped by %s: %d complete shards are listed in the manifest; rerun to continue.",
                      stop.signal_name, writer.num_shards)
  return written


def data_header(geometry: games.Geometry, env_config: environments.EnvConfig, policy: object,
                seed: int) -> dict:
  """The manifest's fixed part for data of `geometry`'s game, behaving as `env_config` says, played by
  `policy` ('random' or a dict)."""
  spec = geometry.spec()
  events = list(minipacman.EVENT_NAMES) if geometry.game == "minipacman" else []
  return json_safe(dict(game=geometry.game, geometry=dataclasses.asdict(geometry),
                        env_config=dataclasses.asdict(env_config),
                        frame_shape=[spec.height, spec.width, 3], num_actions=spec.num_actions,
                        num_events=len(events), event_names=events, palette=spec.palette.tolist(),
                        policy=policy, seed=seed))


def json_safe(value):
  """Tuples to lists and NumPy scalars to Python, recursively (what JSON round-trips to)."""
  if isinstance(value, dict):
    return {str(k): json_safe(v) for k, v in value.items()}
  if isinstance(value, (list, tuple)):
    return [json_safe(v) for v in value]
  if isinstance(value, np.generic):
    return value.item()
  return value
