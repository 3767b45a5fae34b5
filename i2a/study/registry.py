"""Every declared study by name, and the one way to build one (what launch.study calls).

    study = registry.build("sokoban_small_ablations", seeds=None)   # Its declared seeds.
    registry.NAMES                                                   # ('sokoban_small', ...)

Agent studies (studies.py) run `seeds` seeds of every agent (1 if None); ablation studies
(ablations.py, ablation_runs.py) run each arm's declared seeds, at most `seeds`.
"""
from typing import Optional

from i2a.study import ablation_runs
from i2a.study import ablations
from i2a.study import graph
from i2a.study import studies

NAMES = tuple(sorted({*studies.STUDIES, *ablations.STUDIES}))


def build(name: str, seeds: Optional[int], runs_dir: str = "runs", results_dir: str = "results",
          data_dir: str = "data") -> graph.Study:
  """The study `name`, its runs under `runs_dir`, its data under `data_dir`, its report under
  `results_dir`.

  Raises:
    ValueError: an unknown study, fewer than one seed, or flag files that are missing or disagree.
  """
  if name in ablations.STUDIES:
    return ablation_runs.build(ablations.STUDIES[name], seeds, runs_dir, results_dir, data_dir)
  if name not in studies.STUDIES:
    raise ValueError(f"Unknown study {name!r}; the declared studies are {', '.join(NAMES)}.")
  return studies.build(name, 1 if seeds is None else seeds, runs_dir, results_dir, data_dir)
