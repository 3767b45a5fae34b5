r"""Learning curves, points, a summary table and statistics over seeds of training runs (issues 13, 20).

  python -m launch.report --runs='runs/sokoban_*' --output_dir=results/sokoban
  python -m launch.report --runs=runs/hunt_std_s0,runs/hunt_std_s1,runs/hunt_i2a_s0 --output_dir=results/hunt \
      --smoothing=10 --labels='I2A=*i2a*,standard=*std*'
  python -m launch.report --runs='results/sokoban_small/runs/*' --output_dir=results/sokoban_small \
      --band=bootstrap --compare_to=i2a
  python -m launch.report --export_run=runs/study_sokoban_small_i2a_s1 --output_dir=results/sokoban_small/runs

Reads each run's TensorBoard scalars, its stored config and any launch.evaluate results.json below it,
from its logdir or from the summary --export_run wrote of it (scalars as CSV, config, results: the
report is rebuilt from results/ alone). Runs are grouped into agents by --labels, else by their stored
config (variant and ablation options), else by their directory name without a `_s<n>`/`_seed<n>`
suffix; each agent's seeds are averaged and shaded. Writes to --output_dir: curves.png, points.csv (every
run's points), curves.csv (the drawn lines), stats.csv (interquartile means and medians over seeds with
bootstrap intervals, Wilson intervals of the evaluation levels, P(--compare_to > other); Agarwal et
al. 2021) and report.md. With --export_run, writes that run's summary to --output_dir/<run name> instead.
"""
import os

from absl import app
from absl import flags
from absl import logging

from i2a.reporting import plots
from i2a.reporting import run_groups
from i2a.reporting import run_summary
from i2a.reporting import seed_stats
from i2a.reporting import stats_tables
from i2a.reporting import tables
from i2a.training import stored_config
from launch import common_flags

common_flags.define("output_dir")
_RUNS = flags.DEFINE_list("runs", None, "Training logdirs or exported run summaries: paths or globs, "
                          "comma-separated.")
_LABELS = flags.DEFINE_list("labels", [], "name=glob,...: runs whose path or directory name matches glob "
                            "are the agent `name` (first match wins); overrides the stored config.")
_METRIC = flags.DEFINE_string("metric", "auto", "Scalar to draw; auto: solve_rate (Sokoban) where "
                              "logged, else episode_return.")
_SMOOTHING = flags.DEFINE_integer("smoothing", 1, "Moving-average window in logged points (1: none).")
_LAST_POINTS = flags.DEFINE_integer("last_points", 10, "The table's final value: mean of each run's "
                                    "last N logged points.", lower_bound=1)
_BAND = flags.DEFINE_enum("band", "minmax", list(tables.BANDS), "Shading over an agent's runs: "
                          "between min and max, mean +- std, or the 95% bootstrap interval of their "
                          "interquartile mean (then drawn as the line).")
_COMPARE_TO = flags.DEFINE_string("compare_to", None, "An agent (its label, or the label's first word, "
                                  "e.g. i2a) to give P(it beats each other agent) for; default: none.")
_FRAMES_TO = flags.DEFINE_list("frames_to", ["0.5", "0.9"], "Solve rates whose frames-to-reach are "
                               "reported (solve-rate curves only).")
_BOOTSTRAP_SEED = flags.DEFINE_integer("bootstrap_seed", 0, "Seed of the bootstrap resampling.")
_BOOTSTRAP_RESAMPLES = flags.DEFINE_integer("bootstrap_resamples", seed_stats.RESAMPLES, "Bootstrap "
                                            "resamples per interval.", lower_bound=100)
_EXPORT_RUN = flags.DEFINE_string("export_run", None, "Instead of a report: write this launch.train "
                                  "logdir's summary (scalars CSV, config, evaluations) to --output_dir/<run name>.")

FILES = ("curves.png", "points.csv", "curves.csv", "stats.csv", "report.md")


def _levels(items) -> list[float]:
  try:
    levels = [float(item) for item in items]
  except ValueError as e:
    raise run_groups.ReportError(f"--frames_to={','.join(items)}: give solve rates such as 0.5,0.9.") from e
  if any(not 0 < level <= 1 for level in levels):
    raise run_groups.ReportError(f"--frames_to={','.join(items)}: each solve rate must be in (0, 1].")
  return levels


def _export(out: str) -> None:
  if _RUNS.value:
    raise app.UsageError("--export_run and --runs exclude each other: export one run, or report runs.")
  try:
    written = run_summary.export_run_summary(_EXPORT_RUN.value, out)
  except run_groups.ReportError as e:
    raise app.UsageError(str(e)) from e
  print(written)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  out = flags.FLAGS.output_dir
  if not out:
    raise app.UsageError("--output_dir is required: the directory to write the report (or the run summary) to.")
  if _EXPORT_RUN.value:
    return _export(out)
  if not _RUNS.value:
    raise app.UsageError("--runs is required: launch.train logdirs, exported summaries or globs, "
                         "comma-separated.")
  seed, resamples = _BOOTSTRAP_SEED.value, _BOOTSTRAP_RESAMPLES.value
  try:
    runs = run_groups.load_runs(_RUNS.value, run_groups.parse_labels(_LABELS.value), stored_config.completed)
    curves, notes = tables.build_curves(runs, _METRIC.value, _SMOOTHING.value, _BAND.value, seed,
                                               resamples)
    rows, stat_notes = stats_tables.compute(curves, _LAST_POINTS.value, _levels(_FRAMES_TO.value),
                                                   _COMPARE_TO.value, seed, resamples)
  except run_groups.ReportError as e:
    raise app.UsageError(str(e)) from e
  notes += stat_notes
  for note in notes:
    logging.warning("%s", note)
  os.makedirs(out, exist_ok=True)
  plots.plot_curves(curves, os.path.join(out, "curves.png"))
  tables.write_points(curves, os.path.join(out, "points.csv"))
  tables.write_curves(curves, os.path.join(out, "curves.csv"))
  stats_tables.write_csv(rows, os.path.join(out, "stats.csv"))
  text = tables.markdown(curves, notes, _LAST_POINTS.value, _SMOOTHING.value, _BAND.value,
                         stats_tables.markdown(rows, seed, resamples))
  tables.write_markdown(text, os.path.join(out, "report.md"))
  logging.info("%d runs, %d curves -> %s", len(runs), len(curves),
               ", ".join(os.path.join(out, name) for name in FILES))


if __name__ == "__main__":
  app.run(main)
