"""The run-directory lock (two processes, a killed holder, a stale lock) and the writability check."""
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from i2a.training import rundir

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Holds the lock of argv[1]; with argv[2] == 'fork' a child inherits the descriptor and outlives us.
# The module is loaded from its file: importing the i2a package would import TensorFlow (slow).
HOLDER = textwrap.dedent(f"""
    import importlib.util, os, sys, time
    spec = importlib.util.spec_from_file_location("rundir", {rundir.__file__!r})
    rundir = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(rundir)
    lock = rundir.DirectoryLock(sys.argv[1]).acquire()
    if sys.argv[2] == "fork":
      child = os.fork()
      if child == 0:
        time.sleep(300)
        os._exit(0)
      print(child, flush=True)
    else:
      print(os.getpid(), flush=True)
    time.sleep(300)
""")


def _holder(directory, mode="plain"):
  process = subprocess.Popen([sys.executable, "-c", HOLDER, str(directory), mode], cwd=REPO,
                             stdout=subprocess.PIPE, text=True)
  return process, int(process.stdout.readline())


def test_a_second_process_is_refused_with_the_holder_named(tmp_path):
  process, pid = _holder(tmp_path)
  try:
    with pytest.raises(rundir.RunDirectoryError, match=f"in use by pid {pid} on host .* since"):
      rundir.DirectoryLock(str(tmp_path), "logdir").acquire()
  finally:
    process.kill()
    process.wait()


def test_the_lock_of_a_killed_process_is_free(tmp_path):
  process, _ = _holder(tmp_path)
  process.send_signal(signal.SIGKILL)
  process.wait()
  lock = rundir.DirectoryLock(str(tmp_path)).acquire()
  assert lock.held
  lock.release()


def test_a_stale_lock_kept_by_an_orphaned_child_is_broken(tmp_path, caplog):
  process, child = _holder(tmp_path, "fork")
  try:
    process.send_signal(signal.SIGKILL)  # The child still holds the flock; the recorded pid is gone.
    process.wait()
    with caplog.at_level("WARNING"):
      lock = rundir.DirectoryLock(str(tmp_path)).acquire()
    assert lock.held and "stale lock" in caplog.text
    with pytest.raises(rundir.RunDirectoryError, match=f"in use by pid {os.getpid()}"):
      rundir.DirectoryLock(str(tmp_path)).acquire()  # The new lock is a real one.
    lock.release()
  finally:
    os.kill(child, signal.SIGKILL)


def test_same_process_cannot_take_a_held_lock_twice_and_release_frees_it(tmp_path):
  with rundir.DirectoryLock(str(tmp_path)):
    with pytest.raises(rundir.RunDirectoryError):
      rundir.DirectoryLock(str(tmp_path)).acquire()
  with rundir.DirectoryLock(str(tmp_path)) as lock:
    assert lock.held


def test_unwritable_directories_are_named_before_any_work(tmp_path):
  blocker = tmp_path / "a_file"
  blocker.write_text("x")
  with pytest.raises(rundir.RunDirectoryError, match="Cannot write to .*a_file/run"):
    rundir.check_writable(str(tmp_path / "ok"), str(blocker / "run"))
  if os.geteuid() != 0:  # Root writes anywhere, so the permission case needs another user.
    read_only = tmp_path / "read_only"
    read_only.mkdir()
    read_only.chmod(0o555)
    with pytest.raises(rundir.RunDirectoryError, match="read_only"):
      rundir.check_writable(str(read_only))
  rundir.check_writable(str(tmp_path / "new" / "deeper"))
  assert os.listdir(tmp_path / "new" / "deeper") == []  # The probe is removed.
