r"""Per-actor against central inference (SEED RL): full local training at launch.train's settings.

  python -m launch.benchmark_inference [--games=minipacman,sokoban] [--variants=standard,copy] \
      [--inferences=actor,central] [--num_actors=4] [--seconds=20]

For each game, agent variant and inference, trains with --num_actors environment workers (actor
threads, or workers and one server thread) at launch.train's default sizes (--envs_per_actor=8,
--batch_size=8, --unroll_length=10, small Sokoban rooms) for 1.5 x --seconds in progress windows of
--seconds / 4, and reports medians over the windows after the first (tracing excluded): learner
frames/s, policy lag, and for central inference the workers and environment rows per server batch and
the time a request waits for its actions (arrival to reply: batching plus the policy step); and the
process's resident memory half-way and at the end (flat: the queues are bounded). 'copy' is I2A with the copy model (no trained model needed). Rows of
one game and agent run back to back, so they share the machine's load.
"""
import glob
import os
import tempfile
import threading
import time

from absl import flags
import numpy as np
import tensorflow as tf

from i2a import configs
from i2a import frame_processing
from i2a.training import environments
from i2a.training import learner as learner_lib
from i2a.training import loop
from launch import common_flags

DEFAULTS = dict(games=["minipacman", "sokoban"], variants=["standard", "copy"], seconds=20.0, num_actors=4,
                **{k: common_flags.TRAIN_DEFAULTS[k] for k in ("envs_per_actor", "batch_size", "unroll_length",
                                                               "room_size", "num_boxes", "pixels_per_cell",
                                                               "torso", "hidden_size")})
SHARED = tuple(DEFAULTS) + ("precision",)
common_flags.declare_key_flags(SHARED)
flags.DEFINE_list("inferences", list(loop.INFERENCE), "Where the policy runs, each measured: actor, central.")


def settings(fv: flags.FlagValues):
  """The flags this binary reads, with its own defaults for the shared ones left unset."""
  return common_flags.settings(fv, DEFAULTS, (*SHARED, "inferences"))


def resident_mib() -> float:
  """This process's resident memory now, MiB (Linux /proc)."""
  with open("/proc/self/statm") as f:
    return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class MemoryProbe:
  """Samples `resident_mib` at given offsets (seconds) from its start, in a thread."""

  def __init__(self, offsets):
    self.samples = []
    self._thread = threading.Thread(target=self._run, args=(offsets,), daemon=True)
    self._thread.start()

  def _run(self, offsets):
    start = time.monotonic()
    for offset in offsets:
      time.sleep(max(offset - (time.monotonic() - start), 0.0))
      self.samples.append(resident_mib())


def window_medians(logdir: str) -> dict:
  """Each TensorBoard scalar's median over the run's progress windows after the first (tracing)."""
  values = {}
  for path in glob.glob(os.path.join(logdir, "events.*")):
    for event in tf.compat.v1.train.summary_iterator(path):
      for value in event.summary.value:
        values.setdefault(value.tag, []).append((event.step, float(tf.make_ndarray(value.tensor))))
  return {tag: float(np.median([v for _, v in sorted(pairs)[1:]] or [np.nan])) for tag, pairs in values.items()}


def train_once(agent: configs.AgentConfig, env: environments.EnvConfig, inference: str, fv) -> dict:
  """Trains for --seconds plus windows of --seconds / 4; the medians of the windows after the first
  (tracing), with the resident memory at 1/3 and at the end."""
  with tempfile.TemporaryDirectory() as logdir:
    config = loop.TrainConfig(
        agent=agent, env=env, learner=learner_lib.LearnerConfig(learning_rate=1e-3, max_grad_norm=40.0),
        logdir=logdir, num_actors=fv.num_actors, envs_per_actor=fv.envs_per_actor, batch_size=fv.batch_size,
        unroll_length=fv.unroll_length, total_frames=10**12, checkpoint_every_secs=None,
        log_every_secs=fv.seconds / 4, max_seconds=1.5 * fv.seconds, inference=inference)
    probe = MemoryProbe([fv.seconds / 2])
    loop.train(config)
    result = window_medians(logdir)
    result["rss"] = probe.samples[:1] + [resident_mib()]
    return result


def main(argv):
  del argv
  fv = settings(flags.FLAGS)
  print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; {fv.num_actors} workers x "
        f"{fv.envs_per_actor} environments, B={fv.batch_size} T={fv.unroll_length}, {fv.seconds:g} s windows")
  print(f"{'game':<11} {'agent':<9} {'inference':<9} {'frames/s':>9} {'lag':>5} {'batch workers':>13} "
        f"{'batch envs':>10} {'wait ms':>8} {'RSS MiB (mid -> end)':>20}")
  for game in fv.games:
    for variant in fv.variants:
      sokoban = game == "sokoban"
      agent = configs.AgentConfig(
          game=game, variant=variant, room_size=fv.room_size,
          pixels_per_cell=fv.pixels_per_cell, precision=fv.precision,
          torso=frame_processing.TorsoConfig.parse(fv.torso), hidden_size=fv.hidden_size or None)
      env = environments.EnvConfig(num_boxes=fv.num_boxes if sokoban else 4)
      for inference in fv.inferences:
        r = train_once(agent, env, inference, fv)
        nan = float("nan")
        print(f"{game:<11} {variant:<9} {inference:<9} {r['frames_per_second']:>9,.0f} {r['policy_lag']:>5.1f} "
              f"{r.get('inference_batch_workers', nan):>13.2f} {r.get('inference_batch_size', nan):>10.1f} "
              f"{r.get('inference_wait_ms', nan):>8.1f} {r['rss'][0]:>9,.0f} -> {r['rss'][1]:>6,.0f}", flush=True)


if __name__ == "__main__":
  common_flags.run_main(main)
