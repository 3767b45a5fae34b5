"""Checkpoints of the training state and of environment models, with clear errors when they do not fit.

Crash safety (TensorFlow 2.21's object-based checkpoints, verified in its source and by our tests):
1. `Checkpoint.write` saves the variables under `<prefix>_temp/part-*`, then MergeV2Checkpoints renames
   them to `<prefix>.index` and `<prefix>.data-*`;
2. only after that succeeds does `CheckpointManager` rewrite the `checkpoint` index file that names the
   latest prefix, with `atomic_write_string_to_file` (write a temporary file, then rename), and only
   then delete checkpoints beyond `max_to_keep`.
A crash mid-write therefore leaves the index naming the previous, complete checkpoint (plus an orphaned
`_temp` directory). The one way to overwrite what the index names is saving the same step number again,
which `Checkpointer.save` refuses to do: it returns the existing checkpoint instead.

A restore that fails (missing or truncated files, variables of other shapes, another agent variant's
objects) raises `CheckpointError` naming the path and the problem, and puts back the values the objects
had before the attempt.
"""
import os
from typing import Optional

import tensorflow as tf

_PREFIX = "ckpt"


class CheckpointError(RuntimeError):
  """A checkpoint is missing, corrupt, or does not match the objects it is restored into."""


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
                          "checkpoint was deleted, moved, or never completed).")
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
    if isinstance(error, AssertionError):
      problem = "its objects do not match (another agent variant or config?)"
    elif isinstance(error, ValueError):
      problem = "its variables do not fit (other shapes or dtypes: another agent variant or config?)"
    else:
      problem = "its files are unreadable (truncated, corrupt or missing data file)"
    message = str(error).strip().splitlines()
    raise CheckpointError(f"Cannot restore {what} from {path!r}: {problem}. TensorFlow says: "
                          f"{' '.join(message[:3])[:600]}") from error


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
    self._manager = tf.train.CheckpointManager(self._checkpoint, directory, max_to_keep=max_to_keep,
                                               checkpoint_name=_PREFIX)
    self.directory = directory

  @property
  def latest_path(self) -> Optional[str]:
    """The prefix the `checkpoint` index file names as newest, or None."""
    return self._manager.latest_checkpoint

  def save(self, step: int) -> str:
    """Saves as `<directory>/ckpt-<step>`; returns that prefix. An existing step is not rewritten."""
    step = int(step)
    if step < 0:
      raise ValueError(f"Checkpointer.save: step must be >= 0, got {step}.")
    path = os.path.join(self.directory, f"{_PREFIX}-{step}")
    if path in self._manager.checkpoints:
      return path  # Rewriting the files the index names could leave it pointing at a partial write.
    return self._manager.save(checkpoint_number=step)

  def restore(self, path: str) -> None:
    """Restores every object from the checkpoint prefix `path`; CheckpointError if it does not fit."""
    _restore(self._checkpoint, path, self._trackables.values(), f"{sorted(self._trackables)}", strict=True)

  def restore_latest(self) -> bool:
    """Restores the newest checkpoint of `directory`; False (objects untouched) if there is none."""
    path = self.latest_path
    if path is None:
      return False
    self.restore(path)
    return True


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
