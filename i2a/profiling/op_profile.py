"""Where a compiled step's time goes: TensorFlow profiler op statistics, grouped into model and other costs.

    with op_profile.Timer() as timer:  # Wall time of the measured steps, split by the caller.
      ...
    table = op_profile.cost_table(op_profile.op_stats(logdir), timer.seconds, outside={"env step": t})

`op_stats` reads the trace that `tf.profiler.experimental` wrote to a logdir (its *.xplane.pb) through
TensorFlow's own converter to the profiler's 'framework_op_stats' tool (the table TensorBoard's profile
plugin shows): self-time per kernel type, idle time excluded. `cost_table` turns those into shares of the
step's wall time. Ops run on up to 2 threads here, so their self-times can add up to more than the time
spent inside the compiled call: each op type gets its share of that in-graph time in proportion to its
self-time (exact when the graph runs on one thread), and the caller's Python timers give the time outside
the graph (environment step, feeds and fetches). The rows therefore sum to 100% of the wall time.

"Model" costs are the convolutions and matrix products of the networks and the environment model,
forward and backward (the arithmetic the paper's I2A is made of); everything else (casts, sampling,
palette lookups, one-hot tiling, copies, the optimizer's elementwise update, the Python environment)
is overhead that the issue bounds at 10% of the step per item.
"""
import dataclasses
import glob
import json
import os
import re
import time
from typing import Optional

# Kernel types (after stripping oneDNN's _Mkl / _MklNative / _Fused prefixes) that are the model's
# arithmetic: convolutions and matrix products, forward and backward.
_MODEL_TYPES = re.compile(r"^(Conv[23]D.*|DepthwiseConv2dNative.*|MatMul.*|BatchMatMul.*|Einsum)$")
# Readable groups of the other kernel types (the rest keep their own type name).
_GROUPS = {
    "Cast": "cast", "Softmax": "softmax/sampling", "LogSoftmax": "softmax/sampling",
    "Multinomial": "softmax/sampling", "ArgMax": "argmax (palette/sampling)", "ArgMin": "argmin (palette)",
    "GatherV2": "gather/one-hot", "OneHot": "gather/one-hot", "GatherNd": "gather/one-hot",
    "Transpose": "transpose", "_Send": "host<->device", "_Recv": "host<->device",
    "_HostSend": "host<->device", "_HostRecv": "host<->device", "MemcpyHtoD": "host<->device",
    "MemcpyDtoH": "host<->device", "_XlaRun": "XLA cluster (all its ops)",
}
COLUMNS = ("cost", "class", "ms/step", "% wall")


@dataclasses.dataclass(frozen=True)
class OpStat:
  """One kernel type's total self-time in a trace.

  Attributes:
    type: the kernel type with oneDNN's prefixes removed ('Conv2D', 'MatMul', 'Cast', ...); the module
      (`module_of`) in the statistics of `op_stats(by='module')`.
    self_seconds: summed self-time of its kernels, seconds.
    occurrences: number of kernel executions.
  """
  type: str
  self_seconds: float
  occurrences: int


@dataclasses.dataclass(frozen=True)
class CostRow:
  """One row of a cost table: `cost` (an op type or an outside-the-graph item), `model` (True for the
  model's convolutions and matrix products), `seconds` per step and `percent` of the step's wall time."""
  cost: str
  model: bool
  seconds: float
  percent: float


def normalize_type(kernel_type: str) -> str:
  """'_MklNativeFusedConv2D' -> 'Conv2D', '_MklMatMul' -> 'MatMul', 'Cast' -> 'Cast'."""
  name = re.sub(r"^_Mkl(Native)?", "", kernel_type)
  name = re.sub(r"^_?Fused", "", name)
  return name or kernel_type


def is_model_type(op_type: str) -> bool:
  """True for the convolutions and matrix products (the model's arithmetic)."""
  return bool(_MODEL_TYPES.match(op_type))


def group_of(op_type: str) -> str:
  """The row an op type is reported in: model types and ungrouped types keep their name."""
  return _GROUPS.get(op_type, op_type)


class Timer:
  """Accumulates wall seconds over `with timer:` blocks."""

  def __init__(self):
    self.seconds = 0.0
    self._start = None

  def __enter__(self):
    self._start = time.perf_counter()
    return self

  def __exit__(self, *exc):
    self.seconds += time.perf_counter() - self._start


NO_MODULE = "(outside modules)"  # Ops in no network module: losses, V-trace, the optimizer, sampling.


def module_of(operation: str) -> str:
  """The network module an op belongs to, from its name scope: the first scope, backward ops included
  ('gradient_tape/sokoban_env_model/trunk_0/Conv2D' -> 'sokoban_env_model'), the rollout encoder's LSTM
  apart from the rest of the imagination path ('imag_path/rollout_encoder_lstm/MatMul' ->
  'imag_path/rollout_encoder_lstm'), and NO_MODULE for ops outside every module (losses, V-trace, the
  optimizer, sampling)."""
  parts = operation.split("/")
  if parts[0] == "gradient_tape":
    parts = parts[1:]
  if len(parts) < 2 or parts[0] in ("cond", "while"):
    return NO_MODULE
  if parts[0] == "imag_path" and parts[1].startswith("rollout_encoder"):
    return "/".join(parts[:2])
  return parts[0]


def op_stats(logdir: str, by: str = "type") -> list[OpStat]:
  """Per kernel type (by='type') or per module (by='module', `module_of`; the OpStat's `type` is then
  the module) self-time of the newest trace in `logdir` (written by tf.profiler.experimental).

  Raises:
    FileNotFoundError: no *.xplane.pb under `logdir`.
    RuntimeError: this TensorFlow cannot convert the trace to op statistics.
  """
  if by not in ("type", "module"):
    raise ValueError(f"op_stats: by must be 'type' or 'module', got {by!r}")
  traces = sorted(glob.glob(os.path.join(logdir, "plugins", "profile", "*", "*.xplane.pb")))
  if not traces:
    raise FileNotFoundError(f"No profiler trace (*.xplane.pb) under {logdir}/plugins/profile.")
  newest_run = os.path.dirname(traces[-1])
  try:
    # TensorFlow's converter from a trace to the profile plugin's tools (ships with TensorFlow).
    from tensorflow.python.profiler.internal import _pywrap_profiler_plugin  # pylint: disable=g-import-not-at-top
  except ImportError as error:
    raise RuntimeError(f"This TensorFlow has no profiler converter ({error}).") from error
  paths = sorted(glob.glob(os.path.join(newest_run, "*.xplane.pb")))
  data, ok = _pywrap_profiler_plugin.xspace_to_tools_data(paths, "framework_op_stats", {})
  if not ok:
    raise RuntimeError(f"The profiler could not compute op statistics from {paths}.")
  tables = json.loads(data)
  table = tables[1] if len(tables) > 1 else tables[0]  # The second table excludes idle time.
  columns = [c["id"] for c in table["cols"]]
  kind, name, self_time, count = (columns.index(n) for n in ("type", "operation", "total_self_time",
                                                             "occurrences"))
  totals: dict[str, list[float]] = {}
  for row in table.get("rows", []):
    values = [cell.get("v") for cell in row["c"]]
    op_type = normalize_type(str(values[kind]))
    if op_type == "IDLE":
      continue
    key = op_type if by == "type" else module_of(str(values[name]))
    entry = totals.setdefault(key, [0.0, 0])
    entry[0] += float(values[self_time]) * 1e-6  # Microseconds.
    entry[1] += int(values[count])
  return sorted((OpStat(t, s, n) for t, (s, n) in totals.items()), key=lambda o: -o.self_seconds)


def cost_table(stats: list[OpStat], wall_seconds: float, graph_seconds: float, steps: int,
               outside: Optional[dict[str, float]] = None, top: int = 12) -> list[CostRow]:
  """Shares of the wall time of `steps` steps.

  Args:
    stats: the op statistics of exactly these steps (`op_stats`).
    wall_seconds: wall time of the steps.
    graph_seconds: the part of it spent inside the compiled calls (feeds and fetches included).
    steps: the number of steps (rows give seconds per step).
    outside: named seconds spent outside the compiled calls (e.g. the Python environment step); the
      rest of wall_seconds - graph_seconds is reported as 'other Python (outside graph)'.
    top: op-type groups listed individually; the rest are summed as 'other ops'.

  Returns:
    CostRows, largest first, whose percents sum to 100.
  """
  outside = dict(outside or {})
  op_total = sum(s.self_seconds for s in stats)
  # Ops on 2 threads can overlap: scale their self-times to the in-graph time when they exceed it.
  scale = graph_seconds / op_total if op_total > graph_seconds else 1.0
  groups: dict[tuple[str, bool], float] = {}
  for stat in stats:
    key = (group_of(stat.type), is_model_type(stat.type))
    groups[key] = groups.get(key, 0.0) + stat.self_seconds * scale
  ranked = sorted(groups.items(), key=lambda kv: -kv[1])
  rows = [(name, model, seconds) for (name, model), seconds in ranked[:top]]
  rest = sum(seconds for _, seconds in ranked[top:])
  if rest:
    rows.append(("other ops", False, rest))
  in_graph_gap = graph_seconds - op_total * scale
  if in_graph_gap > 0:
    rows.append(("executor/dispatch, feeds & fetches", False, in_graph_gap))
  for name, seconds in outside.items():
    rows.append((name, False, seconds))
  other_python = wall_seconds - graph_seconds - sum(outside.values())
  if other_python > 0:
    rows.append(("other Python (outside graph)", False, other_python))
  total = sum(seconds for _, _, seconds in rows) or 1.0
  rows.sort(key=lambda r: -r[2])
  return [CostRow(name, model, seconds / steps, 100.0 * seconds / total) for name, model, seconds in rows]


def format_table(title: str, rows: list[CostRow]) -> str:
  """The table as text: one line per row under the COLUMNS header, then the model share and the
  largest non-model cost (the issue's bar: none above 10%)."""
  lines = [title, f"{COLUMNS[0]:<38} {COLUMNS[1]:<9} {COLUMNS[2]:>9} {COLUMNS[3]:>7}"]
  for row in rows:
    lines.append(f"{row.cost:<38} {'model' if row.model else 'other':<9} {1e3 * row.seconds:>9.2f} "
                 f"{row.percent:>6.1f}%")
  model = sum(r.percent for r in rows if r.model)
  worst = max((r for r in rows if not r.model), key=lambda r: r.percent, default=None)
  summary = f"model {model:.1f}%"
  if worst is not None:
    summary += (f"; largest non-model cost: {worst.cost} {worst.percent:.1f}% "
                f"({'above' if worst.percent > 10 else 'within'} the 10% bar)")
  lines.append(summary)
  return "\n".join(lines)
