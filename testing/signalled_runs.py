"""Runs a Python snippet in a subprocess until it is ready, sends it a stop signal, and reads the JSON
result it prints last: the driver of the tests that a stop signal saves work and exits cleanly."""
import json
import os
import subprocess
import sys
import time
from typing import Callable, Optional, Sequence

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_until_signalled(args: Sequence[str], ready: Callable[[], bool], signum: int, settle: float = 0.0,
                        before_signal: Optional[Callable[[], None]] = None) -> dict:
  """`python -c *args` from the repository root; once `ready()` (polled), waits `settle` seconds, calls
  `before_signal()` if given, sends `signum`, and returns the last stdout line parsed as JSON. Asserts
  that the process stays alive until then and exits with status 0."""
  process = subprocess.Popen([sys.executable, "-c", *args], cwd=REPO, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
  try:
    deadline = time.monotonic() + 300  # A hang guard, not a speed assertion.
    while not ready():
      assert process.poll() is None, process.stderr.read()[-3000:]
      assert time.monotonic() < deadline
      time.sleep(0.2)
    time.sleep(settle)
    if before_signal is not None:
      before_signal()
    process.send_signal(signum)
    out, err = process.communicate(timeout=300)
  finally:
    if process.poll() is None:
      process.kill()
  assert process.returncode == 0, err[-3000:]
  return json.loads(out.strip().splitlines()[-1])
