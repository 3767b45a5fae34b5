r"""Learning curves, points and a summary table of training runs (issue 13's report).

  python -m launch.report --runs='runs/sokoban_*' --out=results/sokoban
  python -m launch.report --runs=runs/hunt_std_s0,runs/hunt_std_s1,runs/hunt_i2a_s0 --out=results/hunt \
      --smoothing=10 --labels='I2A=*i2a*,standard=*std*'

Reads each run's TensorBoard scalars, its stored config and any launch.evaluate results.json below it.
Runs are grouped into agents by --labels, else by their stored config (variant and ablation options),
else by their directory name without a `_s<n>`/`_seed<n>` suffix; each agent's seeds are averaged and
shaded. Writes to --out: curves.png, points.csv (every run's points), curves.csv (the drawn lines)
and report.md.
"""
import os

from absl import app
from absl import flags
from absl import logging

from i2a.training import report_plots
from i2a.training import report_tables
from i2a.training import reporting
from launch import common_flags  # pylint: disable=unused-import  (defines the shared --out)

flags.declare_key_flag("out")  # Shared (launch/common_flags.py); shown in --help.
_RUNS = flags.DEFINE_list("runs", None, "Training logdirs: paths or globs, comma-separated.")
_LABELS = flags.DEFINE_list("labels", [], "name=glob,...: runs whose path or directory name matches glob "
                            "are the agent `name` (first match wins); overrides the stored config.")
_METRIC = flags.DEFINE_string("metric", "auto", "Scalar to draw; auto: solve_rate (Sokoban) where "
                              "logged, else episode_return.")
_SMOOTHING = flags.DEFINE_integer("smoothing", 1, "Moving-average window in logged points (1: none).")
_LAST_POINTS = flags.DEFINE_integer("last_points", 10, "The table's final value: mean of each run's "
                                    "last N logged points.", lower_bound=1)
_BAND = flags.DEFINE_enum("band", "minmax", list(report_tables.BANDS), "Shading over an agent's runs: "
                          "between min and max, or mean +- std.")

FILES = ("curves.png", "points.csv", "curves.csv", "report.md")


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  if not _RUNS.value:
    raise app.UsageError("--runs is required: launch.train logdirs or globs, comma-separated.")
  out = flags.FLAGS.out
  if not out:
    raise app.UsageError("--out is required: the directory to write the report to.")
  try:
    runs = reporting.load_runs(_RUNS.value, reporting.parse_labels(_LABELS.value))
    curves, notes = report_tables.build_curves(runs, _METRIC.value, _SMOOTHING.value, _BAND.value)
  except reporting.ReportError as e:
    raise app.UsageError(str(e)) from e
  for note in notes:
    logging.warning("%s", note)
  os.makedirs(out, exist_ok=True)
  report_plots.plot_curves(curves, os.path.join(out, "curves.png"))
  report_tables.write_points(curves, os.path.join(out, "points.csv"))
  report_tables.write_curves(curves, os.path.join(out, "curves.csv"))
  text = report_tables.markdown(curves, notes, _LAST_POINTS.value, _SMOOTHING.value, _BAND.value)
  report_tables.write_markdown(text, os.path.join(out, "report.md"))
  logging.info("%d runs, %d curves -> %s", len(runs), len(curves),
               ", ".join(os.path.join(out, name) for name in FILES))


if __name__ == "__main__":
  app.run(main)
