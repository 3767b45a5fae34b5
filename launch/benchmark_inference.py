r"""Per-actor against central inference (SEED RL): full local training at launch.train's settings.

  python -m launch.benchmark_inference [--games=minipacman,sokoban] [--agents=standard,copy] \
      [--inferences=actor,central] [--num_actors=4] [--seconds=20]

For each game, agent variant and inference, trains with --num_actors environment workers (actor
threads, or workers and one server thread) at launch.train's default sizes (--envs_per_actor=8,
--batch_size=8, --unroll_length=10, small Sokoban rooms) until 4 progress windows of --seconds / 4
follow the first (tracing, however long it takes), and reports their medians: learner frames/s, policy
lag, and for central inference the workers and environment rows per server batch and the time a
request waits for its actions (arrival to reply: batching plus the policy step), and the acting lag
(learner steps published while a server batch ran); and the process's
resident memory after 2 and after 4 of those windows (flat: the queues are bounded). 'copy' is I2A
with the copy model (no trained model needed); 'i2a' is I2A with the learned model of
--env_model_checkpoint (and --env_model_size), one game per invocation, e.g. the shipped 6x6 model:

  python -m launch.benchmark_inference --games=sokoban --agents=standard,i2a --room_size=6 \
      --env_model_checkpoint=models/sokoban_small/env_model --env_model_size=small

Rows of one game and agent run back to back, so they share the machine's load.
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
from i2a.training import environments
from i2a.training import interrupt
from i2a.training import learner as learner_lib
from i2a.training import loop
from i2a.training import train_config
from launch import common_flags
from launch import config_flags

# This binary's defaults for shared flags; the rest (the system's and the networks') are launch.train's.
DEFAULTS = dict(games=["minipacman", "sokoban"], agents=["standard", "copy"], seconds=20.0, num_actors=4)
SHARED = (*DEFAULTS, "envs_per_actor", "batch_size", "unroll_length", "room_size", "num_boxes", "pixels_per_cell",
          "torso", "hidden_size", "lstm_size", "rollout_hidden_size", "precision", "env_model_checkpoint",
          "env_model_size")
config_flags.define(*SHARED[len(("games", "agents", "seconds")):])
common_flags.define("games", "agents", "seconds")
flags.DEFINE_list("inferences", list(train_config.INFERENCE), "Where the policy runs, each measured: actor, central.")


def settings(fv: flags.FlagValues):
  """The flags this binary reads, with its own defaults (DEFAULTS) for the shared ones not given."""
  return common_flags.settings(fv, DEFAULTS, (*SHARED, "inferences"))


def resident_mib() -> float:
  """This process's resident memory now, MiB (Linux /proc)."""
  with open("/proc/self/statm") as f:
    return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def read_windows(logdir: str) -> dict:
  """{tag: [value per progress window, in frame order]} from the run's TensorBoard events."""
  values = {}
  for path in glob.glob(os.path.join(logdir, "events.*")):
    try:
      for event in tf.compat.v1.train.summary_iterator(path):
        for value in event.summary.value:
          values.setdefault(value.tag, []).append((event.step, float(tf.make_ndarray(value.tensor))))
    except tf.errors.DataLossError:  # A record being written now: read it next time.
      pass
  return {tag: [v for _, v in sorted(pairs)] for tag, pairs in values.items()}


def watch(logdir: str, windows: int, stop: interrupt.StopRequest, rss: list) -> None:
  """Stops the run once it has written `windows` progress windows after the first (tracing), noting
  the resident memory when half of them are written and at the end."""
  while not stop.requested:
    written = len(read_windows(logdir).get("frames_per_second", []))
    if written >= 1 + windows // 2 and not rss:
      rss.append(resident_mib())
    if written >= 1 + windows:
      rss.append(resident_mib())
      stop.request("benchmark")
    time.sleep(0.5)


def train_once(agent: configs.AgentConfig, env: environments.EnvConfig, inference: str, fv) -> dict:
  """Trains until 4 progress windows of --seconds / 4 follow the first (tracing, however long); the
  medians of those 4, with the resident memory after 2 and after 4."""
  with tempfile.TemporaryDirectory() as logdir:
    config = loop.TrainConfig(
        agent=agent, env=env, learner=learner_lib.LearnerConfig(),
        logdir=logdir, num_actors=fv.num_actors, envs_per_actor=fv.envs_per_actor, batch_size=fv.batch_size,
        unroll_length=fv.unroll_length, total_frames=10**12, checkpoint_every_secs=None,
        log_every_secs=fv.seconds / 4, max_seconds=20 * fv.seconds, inference=inference,
        env_model_checkpoint=fv.env_model_checkpoint if agent.variant == "i2a" else None)
    stop, rss = interrupt.StopRequest(), []
    watcher = threading.Thread(target=watch, args=(logdir, 4, stop, rss), daemon=True)
    watcher.start()
    loop.train(config, stop=stop)
    stop.request("done")
    watcher.join()
    windows = read_windows(logdir)
    result = {tag: float(np.median(values[1:5])) if len(values) > 1 else float("nan")
              for tag, values in windows.items()}
    result["rss"] = (rss + [resident_mib()] * 2)[:2]
    return result


def main(argv):
  del argv
  fv = settings(flags.FLAGS)
  print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; {fv.num_actors} workers x "
        f"{fv.envs_per_actor} environments, B={fv.batch_size} T={fv.unroll_length}, {fv.seconds / 4:g} s windows")
  print(f"{'game':<11} {'agent':<9} {'inference':<9} {'frames/s':>9} {'lag':>5} {'acting lag':>10} {'batch workers':>13} "
        f"{'batch envs':>10} {'wait ms':>8} {'RSS MiB (mid -> end)':>20}")
  for game in fv.games:
    for variant in fv.agents:
      sokoban = game == "sokoban"
      agent = configs.AgentConfig(
          game=game, variant=variant, room_size=fv.room_size,
          pixels_per_cell=fv.pixels_per_cell, precision=fv.precision,
          torso=fv.torso, hidden_size=fv.hidden_size, lstm_size=fv.lstm_size,
          rollout_hidden_size=fv.rollout_hidden_size,
          env_model_size=fv.env_model_size if variant == "i2a" else "good")
      env = environments.EnvConfig(num_boxes=fv.num_boxes if sokoban else 4)
      for inference in fv.inferences:
        r = train_once(agent, env, inference, fv)
        nan = float("nan")
        print(f"{game:<11} {variant:<9} {inference:<9} {r['frames_per_second']:>9,.0f} {r['policy_lag']:>5.1f} "
              f"{r.get('inference_acting_lag', nan):>10.2f} "
              f"{r.get('inference_batch_workers', nan):>13.2f} {r.get('inference_batch_size', nan):>10.1f} "
              f"{r.get('inference_wait_ms', nan):>8.1f} {r['rss'][0]:>9,.0f} -> {r['rss'][1]:>6,.0f}", flush=True)


if __name__ == "__main__":
  common_flags.run_main(main)
