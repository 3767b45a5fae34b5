"""Machine-hours a study has left, and the plan `launch.study --dry_run` prints.

A run's machine-hours come from its measured speed (graph.Work, declared with the study); a partial
run has only the part it has not done left (completion.Status.fraction: its checkpointed frames or
updates). The plan lists every run with its state, its hours left and the runs it waits for:

    sokoban_small/collect        pending   0.02 h  waits for data_agent
"""
from typing import Iterable

from i2a.study import completion
from i2a.study import graph

_MAX_NAMED_NEEDS = 3  # A report waits for dozens of runs: name a few and count the rest.


def hours_left(run: graph.Run, status: completion.Status) -> float:
  """The machine-hours `run` still needs, alone on the machine it was measured on."""
  return 0.0 if status.done else run.work.hours * (1.0 - status.fraction)


def total_hours_left(study: graph.Study, statuses: dict[str, completion.Status],
                     keys: Iterable[str] = None) -> float:
  """The machine-hours left of the runs `keys` (default: every run of the study)."""
  keys = study.keys if keys is None else keys
  return sum(hours_left(study[key], statuses[key]) for key in keys)


def waits_for(study: graph.Study, run: graph.Run) -> str:
  """The runs `run` needs, by their short names: 'waits for a, b', or 'waits for 60 runs: a, b, c, ...'."""
  # A run of another study is named with its study: 'sokoban_small/i2a_s1'.
  names = [study[key].name if study.is_own(key) else key for key in run.needs]
  if not names:
    return "waits for nothing"
  if len(names) <= _MAX_NAMED_NEEDS:
    return "waits for " + ", ".join(names)
  return f"waits for {len(names)} runs: {', '.join(names[:_MAX_NAMED_NEEDS])}, ..."


def format_hours(hours: float) -> str:
  return f"{hours:.2f} h"


def plan_lines(study: graph.Study, statuses: dict[str, completion.Status]) -> list[str]:
  """The dry run's text: a header, one line per run (in declaration order), and the total."""
  width = max(len(key) for key in study.keys)
  states = [statuses[key].state for key in study.keys]
  lines = [f"Study {study.name}: {len(study.runs)} runs ({states.count(completion.DONE)} done, "
           f"{states.count(completion.PARTIAL)} partial, {states.count(completion.PENDING)} pending)."]
  for run in study.runs:
    status = statuses[run.key]
    detail = f" ({status.detail})" if status.detail else ""
    lines.append(f"  {run.key:<{width}}  {status.state:<7}  {format_hours(hours_left(run, status)):>8}  "
                 f"{waits_for(study, run)}{detail}")
  lines += _part_lines(study, statuses)
  total = sum(run.work.hours for run in study.runs)
  lines.append(f"Machine-hours left: {format_hours(total_hours_left(study, statuses))} of "
               f"{format_hours(total)} for the whole study (measured speeds alone; see the study's "
               "declaration).")
  return lines


def _part_lines(study: graph.Study, statuses: dict[str, completion.Status]) -> list[str]:
  """Hours per stage, and of the other studies' runs this one waits for (none for a one-stage study of
  its own runs)."""
  parts = [(f"stage {i} ({name})", [r.key for r in study.runs if r.stage == i and study.is_own(r.key)])
           for i, name in enumerate(study.stages)]
  borrowed = [key for key in study.keys if not study.is_own(key)]
  if borrowed:
    others = sorted({key.split("/", 1)[0] for key in borrowed})
    parts.append((f"runs of {', '.join(others)} it waits for", borrowed))
  return [f"  {label}: {len(keys)} runs, {format_hours(total_hours_left(study, statuses, keys))} left of "
          f"{format_hours(sum(study[key].work.hours for key in keys))}" for label, keys in parts]


def command_lines(study: graph.Study) -> list[str]:
  """Each run's command, for `--dry_run --show_commands`."""
  return [f"  {run.key}: {run.command}" for run in study.runs]
