r"""Tables of evaluation-only experiments (issue 24): search (paper Table 1) and generalisation (Table 2).

  python -m launch.report_evaluations --output_dir=results/sokoban_small_ablations/search \
      --search='I2A=runs/s/i2a_s1_alone,I2A + outer search=runs/s/i2a_s1_outer,MCTS 25k=runs/s/mcts_25k'
  python -m launch.report_evaluations --output_dir=results/sokoban_small_ablations/generalisation \
      --generalisation=standard=runs/study_sokoban_small_standard_s1,I2A=runs/study_sokoban_small_i2a_s1

--search takes label=path items, a path being a results.json (or its directory) of launch.evaluate
--outer_search or of launch.mcts_sokoban; items with the same label are one method's runs (seeds).
--generalisation takes label=path items, a path being a launch.train logdir or its exported summary
whose sampled evaluations are read per box count. Writes <name>.csv (every run, or every agent and box
count) and <name>.md to --output_dir; the statistics are i2a/reporting/seed_stats.py's (interquartile mean over
seeds with a 95% bootstrap interval, the Wilson interval of the pooled levels apart). launch.study's
ablation study runs both (i2a/study/ablation_runs.py).
"""
import os

from absl import app
from absl import flags

from i2a.reporting import generalisation_table
from i2a.reporting import run_reader
from i2a.reporting import search_table
from launch import common_flags

common_flags.define("output_dir")
_SEARCH = flags.DEFINE_list("search", [], "label=results path,...: the search table's runs (paper Table 1).")
_GENERALISATION = flags.DEFINE_list("generalisation", [], "label=run directory,...: the generalisation "
                                    "table's runs (paper Table 2).")


def _pairs(name: str, items: list[str]) -> list[tuple[str, str]]:
  pairs = []
  for item in items:
    label, sep, path = item.partition("=")
    if not sep or not label.strip() or not path:
      raise run_reader.ReportError(f"--{name}: {item!r} is not label=path.")
    pairs.append((label.strip(), path))
  return pairs


def _write(out: str, name: str, text: str) -> str:
  path = os.path.join(out, f"{name}.md")
  with open(path, "w") as f:
    f.write(text)
  return path


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  out = flags.FLAGS.output_dir
  if not out:
    raise app.UsageError("--output_dir is required: the directory the tables go to.")
  if not _SEARCH.value and not _GENERALISATION.value:
    raise app.UsageError("Give --search or --generalisation (or both): label=path,...")
  try:
    search = search_table.compute(search_table.group(_pairs("search", _SEARCH.value))) if _SEARCH.value else None
    general = (generalisation_table.compute(search_table.group(_pairs("generalisation", _GENERALISATION.value)))
               if _GENERALISATION.value else None)
  except run_reader.ReportError as e:
    raise app.UsageError(str(e)) from e
  os.makedirs(out, exist_ok=True)
  if search is not None:
    search_table.write_csv(search, os.path.join(out, "search.csv"))
    print(_write(out, "search", search_table.markdown(search)))
  if general is not None:
    generalisation_table.write_csv(general, os.path.join(out, "generalisation.csv"))
    print(_write(out, "generalisation", generalisation_table.markdown(general)))


if __name__ == "__main__":
  common_flags.run_main(main)
