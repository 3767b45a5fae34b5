"""Ctrl-C and a scheduler's SIGTERM as a request to stop cleanly: save, then exit.

    with interrupt.StopRequest() as stop:
      while not done and not stop.requested:
        ...one step...
      save()                                  # Also after a stop request.

While the block runs, the first SIGINT or SIGTERM only sets `requested` (and is logged); the loop
finishes its step, saves and returns. A second signal raises KeyboardInterrupt at once, for a user who
does not want to wait (what was saved before stays intact: saves are atomic). Handlers can only be
installed from the main thread; elsewhere the object never reports a request.
"""
import signal
import threading
from typing import Optional

from absl import logging

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequest:
  """Catches SIGINT and SIGTERM inside a `with` block (see the module docstring)."""

  def __init__(self):
    self.signal_name: Optional[str] = None
    self._previous = {}

  @property
  def requested(self) -> bool:
    return self.signal_name is not None

  def request(self, name: str = "request") -> None:
    """Asks the loop to stop, as a signal would (tests and callers without signals)."""
    self.signal_name = self.signal_name or name

  def _handle(self, signum, unused_frame) -> None:
    name = signal.Signals(signum).name
    if self.requested:
      raise KeyboardInterrupt(f"second stop signal ({name})")
    self.signal_name = name
    logging.warning("%s received: saving and stopping after the current step (send it again to stop "
                    "at once).", name)

  def __enter__(self) -> "StopRequest":
    if threading.current_thread() is threading.main_thread():
      for signum in SIGNALS:
        self._previous[signum] = signal.signal(signum, self._handle)
    return self

  def __exit__(self, *unused_exc) -> None:
    for signum, handler in self._previous.items():
      signal.signal(signum, handler)
    self._previous = {}
