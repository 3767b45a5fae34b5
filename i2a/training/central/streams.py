"""One sampling stream per actor inside the central server's one agent: batched inference that samples
exactly as per-actor inference would.

Per-actor inference samples with each actor's own agent copy (`ActorBuilder.seeds`): every `Sampler`
in it (the policy's, the rollout policy's) hashes (its seed, its call counter, the element's index in
that actor's [N, A] logits) into Gumbel noise (i2a/sampling.py). The server runs one agent on the rows
of many actors at once, so it replaces each of its `Sampler`s by a `StreamSampler` that keeps K
(seed, counter) pairs, one per actor, and keys every row by its own actor's pair and its index within
that actor's block. A row's draw is then the one its actor would have made, whatever else is in the
batch (the design choice of WORKSPACE.md's central-inference entry: one agent and K sampler states,
instead of K agent copies, so the forward pass stays one batch).

    rows = StreamRows()
    install_stream_samplers(server_agent, stream_states(actor_agents, warm_up), rows)
    # In the traced step: rows.set(stream [B], local_row [B]); agent.step(...)
"""
from typing import Callable, Optional, Sequence

import numpy as np
import sonnet as snt
import tensorflow as tf

from i2a import sampling


class StreamRows:
  """Which actor's stream and which row within that actor's block each batch row is, while the
  server's step is being traced (int32 [B] tensors; the StreamSamplers read them then)."""

  def __init__(self):
    self.stream: Optional[tf.Tensor] = None
    self.local_row: Optional[tf.Tensor] = None

  def set(self, stream: tf.Tensor, local_row: tf.Tensor) -> None:
    self.stream, self.local_row = stream, local_row

  def clear(self) -> None:
    self.stream = self.local_row = None


class StreamSampler(snt.Module):
  """A `Sampler` with K streams: row r of a call draws from stream `rows.stream[r]` as that stream's
  own `Sampler` would have drawn it, and every stream present in the call advances by one draw.

  Args:
    states: int64 [K, 2] initial (seed, draws so far) of each stream.
    rows: the current call's row assignment (set by the server's step while tracing).
    name: module name.
  """

  def __init__(self, states: np.ndarray, rows: StreamRows, name: str = "stream_sampler"):
    super().__init__(name=name)
    self._rows = rows
    self.state = tf.Variable(np.asarray(states, np.int64), trainable=False, name="state")

  def __call__(self, logits: tf.Tensor) -> tf.Tensor:
    """float [R, A] logits -> int32 [R] samples. R is B * m for the B rows of `rows` (the rollout
    policy sees [B, A] flattened batch-major by snt.BatchApply, m = A), so row r belongs to batch row
    r // m and is row local_row * m + r % m of its actor's block."""
    if self._rows.stream is None:
      raise RuntimeError("StreamSampler: called outside the central server's step (no row streams set).")
    logits = tf.cast(tf.convert_to_tensor(logits), tf.float32)
    stream, local_row = self._rows.stream, self._rows.local_row
    rows = tf.shape(logits)[0]
    per_row = rows // tf.shape(stream)[0]
    r = tf.range(rows)
    row_stream = tf.gather(stream, r // per_row)
    row_index = tf.cast(tf.gather(local_row, r // per_row) * per_row + r % per_row, tf.int64)
    state = tf.gather(self.state.read_value(), row_stream)  # [R, 2]
    num_actions = tf.shape(logits, out_type=tf.int64)[1]
    index = row_index[:, None] * num_actions + tf.range(num_actions)[None, :]  # As Sampler's flat index.
    uniform = sampling.keyed_uniform(state[:, :1], state[:, 1:], index)
    gumbel = tf.cast(-tf.math.log(-tf.math.log(uniform)), tf.float32)
    present = tf.math.unsorted_segment_max(tf.ones_like(stream, tf.int64), stream, tf.shape(self.state)[0])
    self.state.assign_add(tf.stack([tf.zeros_like(present), tf.maximum(present, 0)], axis=1))
    return tf.argmax(logits + gumbel, axis=-1, output_type=tf.int32)


def sampler_paths(agent: snt.Module) -> list[tuple]:
  """The attribute paths of every `Sampler` in `agent`, in a fixed order (tf.Module's name order)."""
  found = agent._flatten(predicate=lambda m: isinstance(m, sampling.Sampler), with_path=True)  # pylint: disable=protected-access
  return [path for path, _ in found]


def _get(module, path: tuple):
  for part in path:
    module = module[part] if isinstance(part, int) else getattr(module, part)
  return module


def stream_states(agents: Sequence[snt.Module], warm_up: Callable[[snt.Module], None]) -> list[np.ndarray]:
  """The initial stream states of each Sampler slot: int64 [K, 2] per `sampler_paths` entry.

  Args:
    agents: actor k's agent copy as per-actor inference would build it (its seeds), unbuilt.
    warm_up: what an actor does with its agent before its first real step (Actor.unroll builds the
      variables with one policy step and builds the rollout policy); it advances the counters, which
      depend only on the number of calls, so it is run on the first copy alone.

  Returns:
    One [K, 2] (seed, counter) array per Sampler, in `sampler_paths` order.
  """
  paths = sampler_paths(agents[0])
  seeds = np.array([[_get(a, p).state.numpy()[0] for p in paths] for a in agents], np.int64)  # [K, S]
  warm_up(agents[0])
  counters = np.array([_get(agents[0], p).state.numpy()[1] for p in paths], np.int64)  # [S]
  return [np.stack([seeds[:, s], np.full(len(agents), counters[s])], axis=1) for s in range(len(paths))]


def install_stream_samplers(agent: snt.Module, states: Sequence[np.ndarray], rows: StreamRows) -> None:
  """Replaces every Sampler of `agent` (the server's own copy) by a StreamSampler with `states`."""
  paths = sampler_paths(agent)
  if len(paths) != len(states):
    raise ValueError(f"install_stream_samplers: the agent has {len(paths)} samplers, {len(states)} "
                     "stream states were given.")
  for path, slot_states in zip(paths, states):
    parent = _get(agent, path[:-1])
    setattr(parent, path[-1], StreamSampler(slot_states, rows, name=f"stream_{path[-1].strip('_')}"))
