"""Environment-model training data: sharded trajectories and their manifest (the tf.data pipeline is in
`streaming`).

The paper trains its environment models on trajectories of a partially trained model-free agent (paper
Sec. 3.2). A data directory holds

  manifest.json      what the data is (game and its geometry, env config, frame shape, palette, policy)
                     and the list of
                     complete shards with their counts; replaced atomically after every shard;
  shard-00000.npz    one shard: T+1 consecutive steps of N environment copies, time-major (below).

Only shards listed in the manifest are data: a shard is written to a temporary name and renamed, then
the manifest is rewritten (temporary file + rename), so an interrupted collection never leaves a
half-written shard that readers could see; `ShardWriter` deletes stray temporary and unlisted files.

Shard arrays, index t = 0..T (dm_env convention: row t holds what arrived with step t):
  step_type uint8 [T+1, N] (0 FIRST, 1 MID, 2 LAST), frame uint8 [T+1, N, H, W, 3],
  action int32 [T+1, N] (taken at step t; -1 in the last row, which is the next shard's first row),
  reward float32 [T+1, N], discount float32 [T+1, N], events float32 [T+1, N, E] (E = 5 for MiniPacman,
  0 for Sokoban). A model-training pair is (frame_t, action_t) -> (frame_t+1, reward_t+1, events_t+1),
  valid only when step t+1 is not FIRST: a LAST -> FIRST step crosses an episode boundary.
"""
import dataclasses
import json
import os
import zipfile
import zlib
from typing import Sequence

import dm_env
import numpy as np

from i2a import games
from i2a.model_pipeline.event_counts import added as _added
from i2a.model_pipeline.event_counts import event_counts as _event_counts
from i2a.model_pipeline.event_counts import mixture_copies
from i2a.model_pipeline.event_counts import total_counts
from i2a.training import rundir

MANIFEST = "manifest.json"
FORMAT = "i2a-env-model-data"
VERSION = 1
# What must agree between a data directory and a collection that continues it.
IDENTITY_KEYS = ("format", "version", "game", "geometry", "env_config", "frame_shape", "num_actions",
                 "num_events", "policy", "seed")
_GEOMETRY_FIELDS = tuple(f.name for f in dataclasses.fields(games.Geometry))
DTYPES = dict(step_type=np.uint8, frame=np.uint8, action=np.int32, reward=np.float32,
               discount=np.float32, events=np.float32)


def manifest_geometry(manifest: dict) -> games.Geometry:
  """The game settings a manifest records. Data collected before they had their own entry kept them
  in 'env_config' (with settings the game does not use), which is read instead."""
  stored = manifest.get("geometry") or manifest["env_config"]
  fields = {n: stored[n] for n in _GEOMETRY_FIELDS if stored.get(n) is not None}
  return games.Geometry(**{"game": manifest["game"], **fields})


def _identity(manifest: dict) -> dict:
  """The IDENTITY_KEYS of a manifest in today's form (an older one's geometry read from its env_config)."""
  identity = {key: manifest.get(key) for key in IDENTITY_KEYS}
  identity["geometry"] = dataclasses.asdict(manifest_geometry(manifest))
  identity["env_config"] = {k: v for k, v in manifest["env_config"].items() if k not in _GEOMETRY_FIELDS}
  return json.loads(json.dumps(identity))


def shard_name(index: int) -> str:
  return f"shard-{index:05d}.npz"


def read_manifest(directory: str) -> dict:
  """The manifest of a data directory; ValueError naming the file if it is missing or unreadable."""
  path = os.path.join(directory, MANIFEST)
  if not os.path.exists(path):
    raise ValueError(f"{path} does not exist: {directory!r} is not an env-model data directory "
                     "(write one with `python -m launch.collect`).")
  try:
    with open(path) as f:
      manifest = json.load(f)
  except (OSError, json.JSONDecodeError) as error:
    raise ValueError(f"Cannot read the data manifest {path}: {error}") from error
  if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
    raise ValueError(f"{path} is not a version-{VERSION} {FORMAT} manifest (format "
                     f"{manifest.get('format')!r}, version {manifest.get('version')!r}).")
  return manifest


def check_shard(arrays: dict, frame_shape: Sequence[int], num_events: int, what: str) -> None:
  """Raises ValueError naming `what` if the shard arrays do not have the documented keys, dtypes, shapes."""
  missing = sorted(set(DTYPES) - set(arrays))
  if missing:
    raise ValueError(f"{what}: missing arrays {missing}")
  t1, n = np.shape(arrays["step_type"])[:2] if np.ndim(arrays["step_type"]) == 2 else (0, 0)
  expected = dict(step_type=(t1, n), frame=(t1, n, *frame_shape), action=(t1, n), reward=(t1, n),
                  discount=(t1, n), events=(t1, n, num_events))
  for key, shape in expected.items():
    value = arrays[key]
    if value.dtype != DTYPES[key] or tuple(value.shape) != shape or t1 < 2:
      raise ValueError(f"{what}: {key} is {value.dtype} {tuple(value.shape)}, expected "
                       f"{np.dtype(DTYPES[key]).name} {shape} with T+1 >= 2 rows")


def read_shard(directory: str, name: str, manifest: dict) -> dict:
  """The arrays of shard `name` (see the module docstring), validated against the manifest."""
  path = os.path.join(directory, name)
  try:
    with np.load(path) as data:
      arrays = {key: data[key] for key in data.files}
  except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as error:
    raise ValueError(f"Cannot read data shard {path}: {error}") from error
  check_shard(arrays, manifest["frame_shape"], manifest["num_events"], f"data shard {path}")
  return arrays


def valid_pairs(step_type: np.ndarray) -> np.ndarray:
  """bool [T, N]: whether (step t, step t+1) is a transition within one episode (step t+1 not FIRST)."""
  return np.asarray(step_type)[1:] != dm_env.StepType.FIRST


def transitions(shard: dict) -> dict:
  """The valid model-training pairs of a shard, flattened in (t, n) order.

  Returns:
    dict of frame uint8 [M, H, W, 3], action int32 [M], next_frame uint8 [M, H, W, 3],
    reward float32 [M], events float32 [M, E].
  """
  mask = valid_pairs(shard["step_type"])
  return dict(frame=shard["frame"][:-1][mask], action=shard["action"][:-1][mask],
              next_frame=shard["frame"][1:][mask], reward=shard["reward"][1:][mask],
              events=shard["events"][1:][mask])


def window_starts(step_type: np.ndarray, depth: int) -> tuple[np.ndarray, np.ndarray]:
  """(t, n) of every run of `depth` valid pairs of one copy (step_type [T+1, N]), in (t, n) order."""
  if depth < 1:
    raise ValueError(f"rollout depth must be >= 1, got {depth}")
  mask = valid_pairs(step_type)  # [T, N]
  steps = mask.shape[0]
  if steps < depth:
    return np.zeros(0, np.int64), np.zeros(0, np.int64)
  ok = np.stack([mask[k:steps - depth + 1 + k] for k in range(depth)]).all(axis=0)  # [T-depth+1, N]
  return np.nonzero(ok)


def rollout_windows(shard: dict, depth: int) -> tuple[np.ndarray, np.ndarray]:
  """Every run of `depth` consecutive transitions of one copy within one episode.

  Returns:
    frames uint8 [M, depth + 1, H, W, 3] (the real frames t..t+depth) and actions int32 [M, depth]
    (the real actions t..t+depth-1), windows in (t, n) order.
  """
  if depth < 1:
    raise ValueError(f"rollout depth must be >= 1, got {depth}")
  starts_t, starts_n = window_starts(shard["step_type"], depth)
  offsets = np.arange(depth + 1)
  frames = shard["frame"][starts_t[:, None] + offsets, starts_n[:, None]]
  actions = shard["action"][starts_t[:, None] + offsets[:-1], starts_n[:, None]]
  return frames, actions.astype(np.int32)


def held_out_data(directory: str, names, max_transitions: int, max_windows: int,
                   depth: int) -> tuple[dict, tuple[np.ndarray, np.ndarray]]:
  """The first `max_transitions` pairs (`transitions`) and `max_windows` k-step windows
  (`rollout_windows`) of the shards `names`, read in order until both are reached."""
  manifest = read_manifest(directory)
  pairs, windows, actions = [], [], []
  for name in names:
    shard = read_shard(directory, name, manifest)
    pairs.append(transitions(shard))
    frames, acts = rollout_windows(shard, depth)
    windows.append(frames)
    actions.append(acts)
    if sum(len(p["action"]) for p in pairs) >= max_transitions and sum(map(len, windows)) >= max_windows:
      break
  if not pairs:
    raise ValueError(f"No held-out shards in {directory!r}: collect more shards or raise eval_fraction.")
  merged = {k: np.concatenate([p[k] for p in pairs])[:max_transitions] for k in pairs[0]}
  return merged, (np.concatenate(windows)[:max_windows], np.concatenate(actions)[:max_windows])


def split_shards(manifest: dict, eval_fraction: float) -> tuple[list[str], list[str]]:
  """Deterministic held-out shards: shard i is held out when floor((i+1) f) > floor(i f).

  So a fraction f of shards is held out, spread evenly, and a shard keeps its split when more data is
  collected. With f > 0 and no shard selected that way (fewer than 1/f shards), the last shard is held
  out if there are at least two.

  Returns:
    (training shard names, held-out shard names).
  """
  if not 0.0 <= eval_fraction < 1.0:
    raise ValueError(f"eval_fraction must be in [0, 1), got {eval_fraction}")
  names = [entry["file"] for entry in manifest["shards"]]
  held = [i for i in range(len(names)) if np.floor((i + 1) * eval_fraction) > np.floor(i * eval_fraction)]
  if eval_fraction > 0 and not held and len(names) >= 2:
    held = [len(names) - 1]
  return [n for i, n in enumerate(names) if i not in held], [names[i] for i in held]


class ShardWriter:
  """Appends shards to a data directory, continuing an existing one (resume) and holding a lock on it.

  Args:
    directory: created if missing.
    header: the manifest's fixed part (every key of IDENTITY_KEYS except format and version, plus
      anything descriptive such as the palette). An existing directory with shards must agree on
      IDENTITY_KEYS; one whose manifest lists no shard (a collection that failed before its first
      shard) is started afresh with this header.

  Raises:
    ValueError: the directory holds other data; rundir.RunDirectoryError (a RuntimeError): another
      live process is writing to it.
  """

  def __init__(self, directory: str, header: dict):
    self.directory = directory
    self._lock = rundir.DirectoryLock(directory, "data directory").acquire()  # The one lock of runs.
    fresh = dict(header, format=FORMAT, version=VERSION, shards=[], num_steps=0, num_transitions=0)
    try:
      existing = read_manifest(directory) if os.path.exists(os.path.join(directory, MANIFEST)) else None
      if existing is not None and existing["shards"]:  # A manifest without shards holds no data.
        self.manifest = existing
        stored, new = _identity(self.manifest), _identity(fresh)
        for key in IDENTITY_KEYS:
          if new[key] != stored[key]:
            raise ValueError(f"{directory!r} holds data with {key}={stored[key]!r}, but this "
                             f"collection has {key}={new[key]!r}; use another --out directory.")
      else:
        self.manifest = fresh
        self._write_manifest(fresh)
    except Exception:
      self.close()
      raise
    self.removed = self._clean()

  def _write_manifest(self, manifest: dict) -> None:
    rundir.atomic_write(os.path.join(self.directory, MANIFEST), json.dumps(manifest, indent=1).encode())

  def _clean(self) -> list[str]:
    """Deletes temporary files and shards the manifest does not list (left by an interruption)."""
    listed = {entry["file"] for entry in self.manifest["shards"]} | {MANIFEST, rundir.LOCK_FILE}
    stray = sorted(n for n in os.listdir(self.directory)
                   if n not in listed and (n.endswith(".tmp") or n.startswith("shard-")))
    for name in stray:
      os.remove(os.path.join(self.directory, name))
    return stray

  @property
  def num_shards(self) -> int:
    return len(self.manifest["shards"])

  @property
  def num_steps(self) -> int:
    return self.manifest["num_steps"]

  def write(self, arrays: dict, **info) -> dict:
    """Writes the next shard, then lists it in the manifest; returns its manifest entry.

    Args:
      arrays: the shard arrays (module docstring).
      **info: extra JSON-able fields stored in the shard's manifest entry (e.g. its seed).
    """
    name = shard_name(self.num_shards)
    check_shard(arrays, self.manifest["frame_shape"], self.manifest["num_events"], f"shard {name}")
    rundir.atomic_write(os.path.join(self.directory, name), lambda f: np.savez_compressed(f, **arrays))
    mask = valid_pairs(arrays["step_type"])
    entry = dict(file=name, num_envs=int(mask.shape[1]), length=int(mask.shape[0]),
                 num_steps=int(mask.size), num_transitions=int(mask.sum()),
                 episodes_ended=int((arrays["step_type"][1:] == 2).sum()),
                 event_counts=_event_counts(arrays["events"][1:], mask), **info)
    totals = dict(event_counts=_added(total_counts(self.manifest), entry["event_counts"]))
    sources = mixture_copies(self.manifest)
    if sources:  # A mixture (mixture.py): each source's steps and events, from the copies it played.
      entry["steps_by_source"] = {n: int(mask[:, a:b].size) for n, (a, b) in sources.items()}
      entry["event_counts_by_source"] = {n: _event_counts(arrays["events"][1:, a:b], mask[:, a:b])
                                         for n, (a, b) in sources.items()}
      for key in ("steps_by_source", "event_counts_by_source"):
        old = self.manifest.get(key, {})
        totals[key] = {n: _added(old.get(n), entry[key][n]) for n in sources}
    manifest = dict(self.manifest, shards=self.manifest["shards"] + [entry],
                    num_steps=self.num_steps + entry["num_steps"],
                    num_transitions=self.manifest["num_transitions"] + entry["num_transitions"], **totals)
    self._write_manifest(manifest)
    self.manifest = manifest
    return entry

  def close(self) -> None:
    self._lock.release()
