"""Guards of a run's output directory: one writer at a time, and writable before any work starts.

    with rundir.DirectoryLock(logdir):      # RunDirectoryError if another live process holds it.
      rundir.check_writable(logdir, os.path.join(logdir, "checkpoints"))
      ...

The lock is an advisory `flock` on `<directory>/.lock` (the kernel drops it when its holder exits, even
on SIGKILL), and the file records the holder's pid, host and start time for the message the next
process prints. The one way a lock outlives its process is a child that inherited the descriptor (a
fork without exec); the lock is then stale: its recorded pid is gone on this host, and it is broken.
A holder on another host (a shared file system) cannot be checked, so the message says how to break it.
"""
import datetime
import errno
import fcntl
import json
import os
import socket
from typing import Optional

from absl import logging

LOCK_FILE = ".lock"


class RunDirectoryError(RuntimeError):
  """A run directory is in use by another process, or cannot be written."""


def _alive(pid: int) -> bool:
  try:
    os.kill(pid, 0)
  except ProcessLookupError:
    return False
  except PermissionError:
    return True  # Someone else's process.
  return True


class DirectoryLock:
  """An exclusive lock on `directory` (created if missing), held from `acquire` to `release`.

  Args:
    directory: the directory to lock.
    what: how messages name the directory, e.g. 'logdir' or 'data directory'.
  """

  def __init__(self, directory: str, what: str = "directory"):
    self.directory, self.what = directory, what
    self.path = os.path.join(directory, LOCK_FILE)
    self._file = None

  def _holder(self) -> dict:
    try:
      with open(self.path) as f:
        return json.loads(f.read() or "{}")
    except (OSError, ValueError):
      return {}

  def _try_lock(self) -> bool:
    """Opens the lock file and takes the flock; False if another descriptor holds it."""
    self._file = open(self.path, "a+")  # pylint: disable=consider-using-with
    try:
      fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
      return True
    except OSError as error:
      self._file.close()
      self._file = None
      if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
        return False
      raise RunDirectoryError(f"Cannot lock {self.what} {self.directory!r} ({error}); its file system "
                              "may not support locks: use a local directory.") from error

  def acquire(self) -> "DirectoryLock":
    """Takes the lock, breaking a stale one; RunDirectoryError naming the holder if it is in use."""
    os.makedirs(self.directory, exist_ok=True)
    locked = self._try_lock()
    if not locked:
      holder = self._holder()
      pid, host = holder.get("pid"), holder.get("host")
      if host == socket.gethostname() and isinstance(pid, int) and not _alive(pid):
        logging.warning("Breaking the stale lock %s of pid %d, which no longer runs (a child process of "
                        "it still held the lock).", self.path, pid)
        os.remove(self.path)  # The orphan keeps its lock on the old file; the new file is free.
        locked = self._try_lock()
      if not locked:
        holder = self._holder()
        where = (f"pid {holder.get('pid')} on host {holder.get('host')} since {holder.get('started')}"
                 if holder else "another process")
        raise RunDirectoryError(
            f"The {self.what} {self.directory!r} is in use by {where}: wait for that run to finish or "
            f"stop it, or use another {self.what} (if that process is gone, delete {self.path}).")
    self._file.seek(0)
    self._file.truncate()
    self._file.write(json.dumps(dict(pid=os.getpid(), host=socket.gethostname(),
                                     started=datetime.datetime.now().isoformat(timespec="seconds"))))
    self._file.flush()
    return self

  def release(self) -> None:
    if self._file is not None and not self._file.closed:
      self._file.truncate(0)
      fcntl.flock(self._file, fcntl.LOCK_UN)
      self._file.close()
    self._file = None

  @property
  def held(self) -> bool:
    return self._file is not None

  def __enter__(self) -> "DirectoryLock":
    return self.acquire()

  def __exit__(self, *unused_exc) -> None:
    self.release()


def check_writable(*directories: Optional[str]) -> None:
  """Creates each directory if needed and writes and removes a probe file in it.

  Raises:
    RunDirectoryError: naming the first directory that cannot be created or written.
  """
  for directory in directories:
    if directory is None:
      continue
    probe = os.path.join(directory, f".write_probe_{os.getpid()}")
    try:
      os.makedirs(directory, exist_ok=True)
      with open(probe, "w") as f:
        f.write("probe")
      os.remove(probe)
    except OSError as error:
      raise RunDirectoryError(f"Cannot write to {directory!r} ({error.strerror or error}): choose a "
                              "writable directory or fix its permissions before starting.") from error


def atomic_write(path: str, content) -> None:
  """Writes `content` (bytes, or a function writing to a file) to `path + '.tmp'`, fsyncs, then renames
  it onto `path`: readers see the old file or the whole new one (atomic rename on POSIX)."""
  tmp = path + ".tmp"
  with open(tmp, "wb") as f:
    content(f) if callable(content) else f.write(content)  # pylint: disable=expression-not-assigned
    f.flush()
    os.fsync(f.fileno())
  os.replace(tmp, path)
