"""The Ray backend fails fast on an unreachable cluster and shuts Ray down on every exit path."""
import json
import os
import socket
import subprocess
import sys
import textwrap
import time

import pytest

pytest.importorskip("ray")

from i2a.training.backends import ray_backend  # pylint: disable=g-import-not-at-top,wrong-import-position

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _closed_port() -> int:
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]  # Nothing listens there once the socket is closed.


def test_an_unreachable_address_fails_after_the_configured_time():
  address = f"127.0.0.1:{_closed_port()}"
  with pytest.raises(ConnectionError, match=f"Cannot reach the Ray cluster at '{address}' within 1.5 s"):
    ray_backend.wait_reachable(address, timeout=1.5)
  ray_backend.wait_reachable("auto", timeout=0.0)  # Ray resolves 'auto' itself.


# Prints, for a run that fails (unreachable cluster, or an actor error on a local cluster), the error
# and whether Ray is still initialised afterwards.
RUN = textwrap.dedent("""
    import json, sys
    import ray
    from i2a.training import environments, loop
    from testing import test_train_local
    kind, logdir = sys.argv[1], sys.argv[2]
    if kind == "unreachable":
      config = test_train_local.tiny_config(logdir, backend="ray", ray_address=sys.argv[3],
                                            ray_connect_timeout_secs=1.0)
    else:  # A level file of the wrong size makes every actor fail.
      open(logdir + ".txt", "w").write("; 0\\n#####\\n#@$.#\\n#####\\n")
      config = test_train_local.tiny_config(logdir, backend="ray", num_actors=1, env=environments.EnvConfig(
          num_boxes=1, levels=logdir + ".txt"))
    try:
      loop.train(config)
      error = None
    except Exception as e:
      error = f"{type(e).__name__}: {e}"
    print(json.dumps(dict(error=error, initialized=ray.is_initialized())), flush=True)
""")


@pytest.mark.parametrize("kind", ["unreachable", "actor_error"])
def test_a_failing_ray_run_ends_with_ray_shut_down(tmp_path, kind):
  args = [sys.executable, "-c", RUN, kind, str(tmp_path / "run"), f"127.0.0.1:{_closed_port()}"]
  done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=600, check=False)
  assert done.returncode == 0, done.stderr[-3000:]
  result = json.loads(done.stdout.strip().splitlines()[-1])
  expected = "ConnectionError: Cannot reach" if kind == "unreachable" else "RuntimeError: An actor failed"
  assert result["error"].startswith(expected) and not result["initialized"]


# Starts a local cluster as launch.train does, makes one actor (a worker process), prints the actor's pid
# and waits to be killed.
DRIVER = textwrap.dedent("""
    import json, os, time
    import ray
    from i2a.training.backends import ray_backend
    ray_backend.init_ray(None, num_cpus=1)

    @ray.remote
    class Worker:
      def pid(self):
        return os.getpid()

    worker = Worker.remote()
    print(json.dumps(dict(worker=ray.get(worker.pid.remote()))), flush=True)
    time.sleep(600)
""")


def _descendants(pid: int) -> set[int]:
  """The pids of every live process below `pid`, read from /proc."""
  parents = {}
  for entry in os.listdir("/proc"):
    if entry.isdigit():
      try:
        with open(f"/proc/{entry}/stat") as f:
          parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
      except (OSError, IndexError, ValueError):
        pass
  found, frontier = set(), {pid}
  while frontier:
    frontier = {child for child, parent in parents.items() if parent in frontier} - found
    found |= frontier
  return found


def _alive(pid: int) -> bool:
  try:
    with open(f"/proc/{pid}/stat") as f:
      return f.read().rsplit(")", 1)[1].split()[0] != "Z"  # A zombie has exited.
  except OSError:
    return False


def test_killing_the_driver_leaves_no_ray_process_behind():
  driver = subprocess.Popen([sys.executable, "-c", DRIVER], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
  try:
    worker = json.loads(driver.stdout.readline())["worker"]
    started = _descendants(driver.pid)
    assert worker in started and len(started) >= 3  # Ray's own processes and the actor's worker.
  finally:
    driver.kill()  # SIGKILL: no Python exit handler runs.
  driver.wait(timeout=60)
  deadline = time.monotonic() + 120
  while any(_alive(pid) for pid in started) and time.monotonic() < deadline:
    time.sleep(1)
  left = sorted(pid for pid in started if _alive(pid))
  assert not left, [open(f"/proc/{pid}/cmdline").read().replace("\0", " ")[:120] for pid in left]
