"""Every run's status in a study, read from its own files and, where those are gone, from results/.

    statuses = state.read_statuses(study, root=os.getcwd())
    for line in state.notes(study, statuses): print(line)

Run directories live outside the repository (runs/, data/) and have been lost with a machine; the
summaries the runner exports to results/ as each run finishes are committed and survive it. So a run
is done when:
1. its own files say so (completion.py), or
2. its exported summary says so (`Run.summary_path`: a training run's scalars reached its frames, an
   evaluation's results.json is of the final checkpoint), and no run still to do reads its files; a
   run that must be redone for a run that reads it (an evaluation not exported, say) is redone; or
3. it exports nothing (the data agent, the collection, the environment model), it is not done, and
   every run that reads its files is done: nothing needs it again. Reports (`Marker` runs) read only
   the exported summaries, so they count as readers of neither.
A `Marker` run (a report) is redone when a run it waits for is not done, as its output is then out of
date. A report reads the exported summaries, not the run directories, so it can follow runs done in
either way.
"""
import os

from i2a.study import completion
from i2a.study import graph

NOT_NEEDED = "not needed: every run that reads it is done"


def read_statuses(study: graph.Study, root: str) -> dict[str, completion.Status]:
  """Every run's completion.Status, by the rules above.

  Args:
    study: the study.
    root: the directory its commands run in; run, data and results paths are relative to it.
  Returns:
    run key -> Status; `Status.exported` marks runs found done only in their exported summary.
  """
  order = study.order()
  found = {run.key: run.completion.status(run, root) for run in order}
  for run in order:
    if not found[run.key].done and run.summary_path is not None:
      exported = run.completion.from_summary(run, os.path.join(root, run.summary_path))
      if exported.done:
        found[run.key] = exported
  # A report reads the exported summaries, so it neither needs a run's own files nor makes them unneeded.
  reads_files = [r for r in order if not isinstance(r.completion, completion.Marker)]
  readers = {run.key: [r.key for r in reads_files if run.key in r.needs] for run in order}
  for run in reversed(order):  # Readers first: whether a run is needed depends on them.
    status, after = found[run.key], readers[run.key]
    if isinstance(run.completion, completion.Marker):
      continue
    if status.exported and not all(found[r].done for r in after):
      found[run.key] = run.completion.status(run, root)  # Its files are read again: its own state.
    elif not status.done and run.summary_path is None and after and all(found[r].done for r in after):
      found[run.key] = completion.Status(completion.DONE, 1.0, NOT_NEEDED)
  for run in order:
    status = found[run.key]
    if (status.done and isinstance(run.completion, completion.Marker) and run.completion.after_upstream
        and not all(found[n].done for n in run.needs)):
      found[run.key] = completion.Status(completion.PENDING, 0.0, "redo: a run it waits for is not done")
  return found


def notes(study: graph.Study, statuses: dict[str, completion.Status]) -> list[str]:
  """A warning for each run to do that runs found done in their exports were made from: rebuilding
  it (an environment model lost with a machine, say) makes the study's new runs differ from its old
  ones, so the user can restore the old one first (models/ ships the study's)."""
  lines = []
  for run in study.order():
    if statuses[run.key].done:
      continue
    made = [r.name for r in study.runs if run.key in r.needs and statuses[r.key].exported]
    if made:
      lines.append(f"Note: {run.key} will be rebuilt, but the runs found done in their exported summaries "
                   f"({', '.join(made)}) waited for the one before: restore it into {run.run_dir} first, "
                   "or the new runs will not share their configuration.")
  return lines

