"""The central inference server (SEED RL, Espeholt et al., ICLR 2020): one policy step for many workers.

Environment workers only step environments and send each step (observation, reward, step type,
discount) as a `Request`. The server, beside the learner and on its device:
  - keeps every worker's frame stacks (the agent's only state), reset at FIRST steps inside the step
    exactly as `PolicyStep` does;
  - batches requests up to `max_batch_workers` workers or until `max_wait_secs` after the first one
    arrived, so a slow worker never stalls the others (`gather`);
  - runs the agent's policy step, imagination included, once per batch with the newest published
    weights, sampling each worker's rows from that worker's own stream (streams.py);
  - records each worker's steps, behaviour logits, actions, initial state and compact imagination into
    unrolls of T+1 steps for the learner's `Batcher` (unrolls.py). Nothing is computed twice.

A request from a new generation of a worker (a replaced worker) drops that worker's partial unroll
and frame stacks: no unroll mixes two workers' steps. Transports: backends/central_*.py.
"""
import threading
import time
from typing import Any, Callable, NamedTuple, Optional, Sequence

import numpy as np
import tensorflow as tf

from envs import batched
from i2a import agent_interface
from i2a import imagined as imagination_lib
from i2a import types
from i2a.training import actor as actor_lib
from i2a.training import inference
from i2a.training.central import device_weights
from i2a.training.central import streams
from i2a.training.central import unrolls


class Request(NamedTuple):
  """One worker's step, asking for actions.

  Attributes:
    worker_id: which worker (0..K-1).
    generation: how many times that worker was replaced before this one (0 for the first).
    timestep: its N environments' step (observation 'rgb' uint8 [N, H, W, 3], [N] the rest).
    arrival: the server clock when the request arrived (for the request-wait statistic).
    reply_to: where the transport sends the actions (transport-specific; None if unused).
  """
  worker_id: int
  generation: int
  timestep: batched.BatchedTimeStep
  arrival: float
  reply_to: Any = None


class ServerStep(inference.PolicyStep):
  """`PolicyStep` whose traced step also tells the stream samplers which worker each row is."""

  def __init__(self, agent: agent_interface.Agent, rows: streams.StreamRows, ship_imagination: bool,
               jit_compile: bool):
    """Args: agent: the server's agent (its Samplers replaced by StreamSamplers on `rows`). rows: the
    row assignment. ship_imagination, jit_compile: as `PolicyStep`'s."""
    self._rows = rows
    super().__init__(agent, ship_imagination, jit_compile)

  def _step_fn(self, frame, step_type, state, stream=None, local_row=None):
    """As PolicyStep's, plus int32 [B] stream (worker) and local_row (row within its block)."""
    self._rows.set(stream, local_row)
    try:
      return super()._step_fn(frame, step_type, state)
    finally:
      self._rows.clear()

  def rows(self, frame: np.ndarray, step_type: np.ndarray, state: np.ndarray, stream: np.ndarray,
           local_row: np.ndarray):
    """One batched step: AgentOutput of NumPy arrays, next state, compact imagination or None."""
    output, next_state, imagination = self._step(frame, step_type, state, stream, local_row)
    if imagination is not None:
      imagination = imagination_lib.CompactImagination(*(None if x is None else x.numpy() for x in imagination))
    return types.AgentOutput(*(x.numpy() for x in output)), next_state.numpy(), imagination


class InferenceServer:
  """Serves batches of worker requests with one agent; see the module docstring.

  Args:
    agent: the server's own agent, built (variables exist); its Samplers are replaced here.
    stream_states: per Sampler of the agent, int64 [K, 2] initial streams (streams.stream_states).
    envs_per_worker: N.
    unroll_length: T.
    emit: receives each finished `ActorOutput`; returns False once nobody wants more (stop).
    ship_imagination: record the compact imagination for the learner to reuse.
    jit_compile: compile the step with XLA (the GPU path; slower on our CPU).
    device: where the step runs: the learner's device.
    max_batch_workers: a batch closes when it holds this many workers' requests (None: all K).
    max_wait_secs: ... or this long after its first request arrived.
    clock: seconds, monotonic (tests pass a fake one).
  """

  def __init__(self, agent: agent_interface.Agent, stream_states: Sequence[np.ndarray], envs_per_worker: int,
               unroll_length: int, emit: Callable[[actor_lib.ActorOutput], bool],
               ship_imagination: bool = False, jit_compile: bool = False, device: Optional[str] = None,
               max_batch_workers: Optional[int] = None, max_wait_secs: float = 0.002,
               clock: Callable[[], float] = time.monotonic):
    self.num_workers = int(np.shape(stream_states[0])[0]) if stream_states else 1
    self._n, self._emit, self._clock, self._device = envs_per_worker, emit, clock, device
    self.max_batch_workers = max_batch_workers or self.num_workers
    self.max_wait_secs = max_wait_secs
    self._agent = agent
    rows = streams.StreamRows()
    with tf.device(device):
      streams.install_stream_samplers(agent, stream_states, rows)
    self._step = ServerStep(agent, rows, ship_imagination, jit_compile)
    self._weights = device_weights.DeviceWeights(agent.policy_variables, device)
    self._initial = agent.initial_state(envs_per_worker).numpy()
    self._stacks = [self._initial] * self.num_workers
    self._generations = [0] * self.num_workers
    self._builders = [unrolls.UnrollBuilder(k, envs_per_worker, unroll_length) for k in range(self.num_workers)]
    self._stats_lock = threading.Lock()
    self._batches, self._batch_rows, self._waits = 0, 0, 0.0
    self._requests, self._lags = 0, 0
    self._last_scalars: dict = {}

  @property
  def weights_step(self) -> int:
    """The learner step of the weights the server acts with (-1 before the first publication)."""
    return self._weights.step

  def publish(self, weights: device_weights.Weights, step: int) -> None:
    """Makes `weights` (`Agent.policy_variables` order) of learner step `step` the ones to act with:
    NumPy arrays, or the learner's own variables on this device (copied there, never via the host)."""
    self._weights.publish(weights, step)

  def gather(self, poll: Callable[[Optional[float]], Optional[Request]],
             stopped: Callable[[], bool] = lambda: False) -> list[Request]:
    """One batch: blocks for a first request, then takes more until `max_batch_workers` requests or
    `max_wait_secs` after the first (by `clock`). `poll(timeout)` returns a request or None after
    `timeout` seconds (0: only one already there). Returns [] if `stopped()` while waiting."""
    first = None
    while first is None:
      if stopped():
        return []
      first = poll(0.1)
    batch, deadline = [first], self._clock() + self.max_wait_secs
    while len(batch) < self.max_batch_workers:
      remaining = deadline - self._clock()
      request = poll(max(remaining, 0.0)) if remaining > 0 else poll(0.0)
      if request is None:
        break
      batch.append(request)
    return batch

  def serve(self, requests: Sequence[Request]) -> list[np.ndarray]:
    """Runs the policy once on `requests` (distinct workers) and records the steps; returns each
    request's int32 [N] actions. Finished unrolls go to `emit` first (backpressure: `emit` may block)."""
    self._weights.swap()
    for request in requests:
      if request.generation != self._generations[request.worker_id]:  # A replaced worker: start over.
        self._generations[request.worker_id] = request.generation
        self._builders[request.worker_id].reset()
        self._stacks[request.worker_id] = self._initial
    n = self._n
    timesteps = [r.timestep for r in requests]
    states = np.concatenate([self._stacks[r.worker_id] for r in requests])
    stream = np.repeat(np.array([r.worker_id for r in requests], np.int32), n)
    local_row = np.tile(np.arange(n, dtype=np.int32), len(requests))
    with tf.device(self._device):
      output, next_state, imagined = self._step.rows(
          np.concatenate([t.observation["rgb"] for t in timesteps]),
          np.concatenate([t.step_type for t in timesteps]).astype(np.int32), states, stream, local_row)
    actions = []
    for i, request in enumerate(requests):
      rows = slice(i * n, (i + 1) * n)
      part = types.AgentOutput(*(x[rows] for x in output))
      part_imagined = None if imagined is None else imagination_lib.CompactImagination(
          *(None if x is None else x[rows] for x in imagined))
      unroll = self._builders[request.worker_id].add(request.timestep, part, states[rows], part_imagined,
                                                     self.weights_step)
      self._stacks[request.worker_id] = next_state[rows]
      if unroll is not None:
        self._emit(unroll)
      actions.append(part.action)
    now = self._clock()
    with self._stats_lock:
      self._lags += self._weights.lag_behind()  # Steps the learner published during this batch.
      self._batches += 1
      self._batch_rows += len(requests) * n
      self._requests += len(requests)
      self._waits += sum(now - r.arrival for r in requests)
    return actions

  def scalars(self) -> dict:
    """Since the last call: mean workers and rows per batch, mean request wait (arrival to actions, ms),
    and the acting lag: learner steps published while a batch was served, the server's one step. If no
    batch was served since the last call (the learner consumed queued unrolls), the last figures again;
    {} before the first batch."""
    with self._stats_lock:
      batches, rows, requests, waits, lags = (self._batches, self._batch_rows, self._requests, self._waits,
                                              self._lags)
      self._batches, self._batch_rows, self._waits, self._requests, self._lags = 0, 0, 0.0, 0, 0
      if batches:
        self._last_scalars = dict(
            inference_batch_workers=requests / batches, inference_batch_size=rows / batches,
            inference_wait_ms=1000.0 * waits / requests, inference_acting_lag=lags / batches)
      return dict(self._last_scalars)
