"""Checkpoints of the training state and of environment models, with clear errors when they do not fit.

Crash safety (TensorFlow 2.21's object-based checkpoints, verified in its source and by our tests):
1. `Checkpoint.write` saves the variables under `<prefix>_temp/part-*`, then MergeV2Checkpoints renames
   them to `<prefix>.index` and `<prefix>.data-*`;
2. only after that succeeds does `CheckpointManager` rewrite the `checkpoint` index file that names the
   latest prefix, with `atomic_write_string_to_file` (write a temporary file, then rename), and only
   then delete checkpoints beyond `max_to_keep`.
A crash mid-write therefore leaves the index naming the previous, complete checkpoint (plus an orphaned
`_temp` directory). The one way to overwrite what the index names is saving the same step number again,
which `Checkpointer.save` refuses to do: it returns the existing checkpoint instead (and it raises
rather than write over `ckpt-N` files that the index does not list).

Recovery: `restore_latest` does not trust the `checkpoint` index alone. It tries every `ckpt-N.index`
in the directory, newest step first, and restores the newest readable one; each unreadable one it
passes over is logged with the reason. A deleted or garbled index therefore resumes from the newest
readable checkpoint instead of silently starting again from step 0, and if no checkpoint is readable
it refuses (CheckpointError listing each one and why). With `repair=True` (training) the checkpoints it
passed over are moved to `unreadable/` and the index is rewritten, so later saves never overwrite them.

A restore that fails (missing or truncated files, variables of other shapes, another agent variant's
objects) raises `CheckpointError` naming the path and the problem, and puts back the values the objects
had before the attempt.
"""
import glob
import os
import re
from typing import Optional

from absl import logging
import tensorflow as tf

_PREFIX = "ckpt"


class CheckpointError(RuntimeError):
  """A checkpoint is missing, corrupt, or does not match the objects it is restored into.

  Args:
    message: what went wrong and how to fix it (shown to the user as one line).
    kind: see Attributes.

  Attributes:
    kind: 'missing' (no index file), 'unreadable' (truncated or corrupt files), 'mismatch' (other
      objects, shapes or dtypes: another agent variant or config) or 'exists' (`save` refuses to write
      over files the checkpoint index does not list, or into a directory whose index is unreadable).
  """

  def __init__(self, message: str, kind: str = "unreadable"):
    super().__init__(message)
    self.kind = kind


def _variables(trackables) -> list[tf.Variable]:
  """Every variable reachable from `trackables` (tf.Variables, tf.Modules such as Sonnet modules)."""
  found = {}
  for item in trackables:
    if isinstance(item, tf.Variable):
      found[item.ref()] = item
    elif isinstance(item, tf.Module):
      # tf.Module's property, not Sonnet's: Sonnet's raises before a module has built its variables.
      found.update((v.ref(), v) for v in tf.Module.variables.fget(item))
  return list(found.values())


def _restore(checkpoint: tf.train.Checkpoint, path: str, objects, what: str, strict: bool) -> None:
  """Restores `checkpoint` from `path`, or raises CheckpointError and rolls the variables back.

  `strict` also requires that the checkpoint holds nothing the objects lack (`assert_consumed`);
  otherwise every object's variables must be found (`assert_existing_objects_matched`).
  """
  if not tf.io.gfile.exists(path + ".index"):
    raise CheckpointError(f"Cannot restore {what} from {path!r}: {path}.index does not exist (the "
                          "checkpoint was deleted, moved, or never completed).", kind="missing")
  variables = _variables(objects)
  backup = [v.numpy() for v in variables]
  status = None
  try:
    # `read` (the counterpart of `write`) does not create a save_counter the file may lack.
    status = checkpoint.restore(path) if strict else checkpoint.read(path)
    status.assert_existing_objects_matched()
    if strict:
      status.assert_consumed()
    else:
      status.expect_partial()  # Objects the caller did not ask for (e.g. a trainer's optimizer).
  except Exception as error:  # pylint: disable=broad-except; a truncated file raises IndexError.
    for variable, value in zip(variables, backup):
      variable.assign(value)
    if status is not None:
      status.expect_partial()  # Silences TensorFlow's warning about the values we did not restore.
    kind = "mismatch"
    if isinstance(error, AssertionError):
      problem = "its objects do not match (another agent variant or config?)"
    elif isinstance(error, ValueError):
      problem = "its variables do not fit (other shapes or dtypes: another agent variant or config?)"
    else:
      kind, problem = "unreadable", "its files are unreadable (truncated, corrupt or missing data file)"
    message = str(error).strip().splitlines()
    raise CheckpointError(f"Cannot restore {what} from {path!r}: {problem}. TensorFlow says: "
                          f"{' '.join(message[:3])[:600]}", kind=kind) from error


def checkpoints_on_disk(directory: str) -> list[tuple[int, str]]:
  """(step, prefix) of every `ckpt-<step>.index` in `directory`, newest step first."""
  found = []
  for name in (tf.io.gfile.listdir(directory) if tf.io.gfile.isdir(directory) else []):
    match = re.fullmatch(rf"{_PREFIX}-(\d+)\.index", name)
    if match:
      found.append((int(match.group(1)), os.path.join(directory, name[:-len(".index")])))
  return sorted(found, reverse=True)


def restore_newest_readable(prefixes, restore) -> tuple[Optional[str], list[tuple[str, str]]]:
  """Calls `restore(prefix)` on `prefixes`, newest first, until one succeeds (the recovery rule of the
  module docstring, for training and for inference alike).

  Returns:
    (the restored prefix or None, (prefix, reason) of every unreadable one passed over, each logged).

  Raises:
    CheckpointError: of kind 'mismatch' at once: a readable checkpoint of other objects is no reason to
      fall back on an older one.
  """
  skipped = []
  for path in prefixes:
    try:
      restore(path)
    except CheckpointError as error:
      if error.kind == "mismatch":
        raise
      skipped.append((path, str(error)))
      logging.warning("Skipping checkpoint %s: %s", path, error)
      continue
    return path, skipped
  return None, skipped


class Checkpointer:
  """Keeps the newest `max_to_keep` checkpoints of some objects in `directory`.

  Typical use in the train binary:
    checkpointer = Checkpointer(directory, 5, **learner.trackables(), actor_frames=frames_variable)
    checkpointer.restore_latest()  # False on a fresh run.
    checkpointer.save(int(learner.learner_step.numpy()))
  """

  def __init__(self, directory: str, max_to_keep: int = 5, **trackables):
    """Args: directory: where checkpoints live (created on first save). max_to_keep: >= 1.
    trackables: the named objects to save (tf.Variable, tf.Module / snt.Module, optimizers...)."""
    if not trackables:
      raise ValueError("Checkpointer: give at least one object to checkpoint, e.g. agent=agent.")
    if max_to_keep < 1:
      raise ValueError(f"Checkpointer: max_to_keep must be >= 1, got {max_to_keep}.")
    self._trackables = dict(trackables)
    self._checkpoint = tf.train.Checkpoint(**trackables)
    self.directory = directory
    self._max_to_keep = max_to_keep
    self._manager = self._open_manager()
    self.skipped: list[tuple[str, str]] = []  # (prefix, reason) of checkpoints restore_latest passed over.

  def _open_manager(self) -> Optional[tf.train.CheckpointManager]:
    """The manager of `directory`, or None if its `checkpoint` index cannot be decoded."""
    try:
      return tf.train.CheckpointManager(self._checkpoint, self.directory, max_to_keep=self._max_to_keep,
                                        checkpoint_name=_PREFIX)
    except (UnicodeDecodeError, ValueError) as error:  # TensorFlow itself ignores unparsable text.
      logging.warning("The checkpoint index of %s is unreadable (%s); restore_latest looks for the "
                      "checkpoint files themselves.", self.directory, error)
      return None

  @property
  def latest_path(self) -> Optional[str]:
    """The prefix the `checkpoint` index file names as newest, or None."""
    return None if self._manager is None else self._manager.latest_checkpoint

  def save(self, step: int) -> str:
    """Saves as `<directory>/ckpt-<step>`; returns that prefix. An existing step is not rewritten.

    Raises:
      CheckpointError: `ckpt-<step>` files exist that the index does not list (never overwritten).
    """
    step = int(step)
    if step < 0:
      raise ValueError(f"Checkpointer.save: step must be >= 0, got {step}.")
    path = os.path.join(self.directory, f"{_PREFIX}-{step}")
    if self._manager is None:
      raise CheckpointError(f"Cannot save in {self.directory!r}: its checkpoint index is unreadable; "
                            "call restore_latest(repair=True) first.", kind="exists")
    if path in self._manager.checkpoints:
      return path  # Rewriting the files the index names could leave it pointing at a partial write.
    if tf.io.gfile.exists(path + ".index"):
      raise CheckpointError(f"Refusing to overwrite {path}: it exists but the checkpoint index does not "
                            "list it (restore_latest first, or move it away).", kind="exists")
    return self._manager.save(checkpoint_number=step)

  def restore(self, path: str) -> None:
    """Restores every object from the checkpoint prefix `path`; CheckpointError if it does not fit."""
    _restore(self._checkpoint, path, self._trackables.values(), f"{sorted(self._trackables)}", strict=True)

  def restore_latest(self, repair: bool = False) -> bool:
    """Restores the newest readable checkpoint of `directory`; False (objects untouched) if there is none.

    Every `ckpt-N.index` counts, whatever the `checkpoint` index says (module docstring). Unreadable ones
    are passed over, newest first, with a warning naming each and why (also kept in `self.skipped` as
    (prefix, reason) pairs).

    Args:
      repair: also move the unreadable checkpoints newer than the restored one to `unreadable/` and
        rewrite the index to name the restored one (what a run that goes on saving here needs).

    Raises:
      CheckpointError: checkpoints exist but none is readable (each is named with its problem), or the
        newest readable one holds other objects (kind 'mismatch': another agent variant or config).
    """
    self.skipped = []
    path, self.skipped = restore_newest_readable([p for _, p in checkpoints_on_disk(self.directory)],
                                                 self.restore)
    if path is not None:
      if self.skipped:
        logging.warning("Restored %s, the newest readable checkpoint, after skipping %s.", path,
                        [p for p, _ in self.skipped])
      if path != self.latest_path:
        logging.warning("The checkpoint index of %s names %s, not the newest readable %s.", self.directory,
                        self.latest_path, path)
      if repair and (self.skipped or path != self.latest_path):
        self._repair(path)
      return True
    if self.skipped:
      raise CheckpointError(f"No readable checkpoint in {self.directory!r}; refusing to start again from "
                            "step 0 over them (move them away to start afresh). "
                            + " | ".join(reason for _, reason in self.skipped))
    if self.latest_path is not None:  # The index names a checkpoint whose files are gone: refuse.
      self.restore(self.latest_path)
    if repair and self._manager is None:  # An unreadable index and no checkpoint: start afresh.
      tf.io.gfile.remove(os.path.join(self.directory, "checkpoint"))
      self._manager = self._open_manager()
    return False

  def _repair(self, restored: str) -> None:
    """Moves the skipped checkpoints to `unreadable/` and makes the index name `restored` as newest."""
    aside = os.path.join(self.directory, "unreadable")
    tf.io.gfile.makedirs(aside)
    for path, _ in self.skipped:
      for name in tf.io.gfile.glob(glob.escape(path) + ".*"):
        tf.io.gfile.rename(name, os.path.join(aside, os.path.basename(name)), overwrite=True)
      logging.warning("Moved the unreadable checkpoint %s to %s.", path, aside)
    kept = [p for _, p in reversed(checkpoints_on_disk(self.directory))]
    tf.compat.v1.train.update_checkpoint_state(self.directory, restored, all_model_checkpoint_paths=kept)
    self._manager = self._open_manager()


def restore_objects(path: str, **objects) -> None:
  """Restores the named `objects` from the checkpoint prefix `path`, ignoring what else it holds (e.g.
  the agent of a training checkpoint without its optimizer); CheckpointError if they do not fit."""
  _restore(tf.train.Checkpoint(**objects), path, objects.values(), f"{sorted(objects)}", strict=False)


def save_env_model(env_model: tf.Module, prefix: str) -> str:
  """Writes `tf.train.Checkpoint(env_model=env_model)` to the prefix `prefix`; returns the prefix."""
  if not tf.Module.variables.fget(env_model):
    raise ValueError(f"save_env_model: {env_model.name} has no variables (not built yet, or a CopyModel).")
  return tf.train.Checkpoint(env_model=env_model).write(prefix)


def load_env_model(env_model: tf.Module, path: str) -> str:
  """Restores an environment model from its own checkpoint (root object `env_model`).

  Args:
    env_model: a BUILT environment model (call it once, e.g. by building the agent that contains it,
      so its variables exist and their shapes can be checked).
    path: a checkpoint prefix written by `save_env_model`, or a directory of `Checkpointer(...,
      env_model=model, ...)` checkpoints (the newest is used; other objects in it, e.g. the model
      trainer's optimizer, are ignored).

  Returns:
    The prefix that was restored.

  Raises:
    ValueError: `env_model` has no variables.
    CheckpointError: nothing loadable at `path`, no `env_model` in it, or it does not fit the model.
  """
  variables = tf.Module.variables.fget(env_model)
  if not variables:
    raise ValueError(f"load_env_model: {env_model.name} has no variables; build it (call it once) before "
                     "loading, and note that a CopyModel has nothing to load.")
  prefix = tf.train.latest_checkpoint(path) if tf.io.gfile.isdir(path) else path
  if prefix is None:
    raise CheckpointError(f"Cannot load the environment model: no checkpoint index in directory {path!r}.")
  try:
    keys = [name for name, _ in tf.train.list_variables(prefix)]
  except Exception as error:  # pylint: disable=broad-except
    raise CheckpointError(f"Cannot load the environment model from {prefix!r}: unreadable checkpoint "
                          f"({type(error).__name__}: {str(error).splitlines()[0][:300]}).") from error
  stored = [k for k in keys if k.startswith("env_model/") and k.endswith("VARIABLE_VALUE")]
  if not stored:
    roots = sorted({k.split("/")[0] for k in keys if not k.startswith("_")})
    raise CheckpointError(f"Cannot load the environment model from {prefix!r}: it holds no 'env_model' "
                          f"object (its root objects are {roots}).")
  if len(stored) != len(variables):
    raise CheckpointError(f"Cannot load the environment model from {prefix!r}: it stores {len(stored)} "
                          f"env_model variables, {env_model.name} has {len(variables)} (other architecture?).")
  _restore(tf.train.Checkpoint(env_model=env_model), prefix, [env_model], "the environment model",
           strict=False)
  return prefix
