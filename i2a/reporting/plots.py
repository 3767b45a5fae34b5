"""launch.report's figure: one panel per game (and task or room), one line per agent with its band
over runs, environment frames on the x axis, as in paper Fig. 4 (Sokoban) and App. B (MiniPacman)."""
from typing import Sequence

import matplotlib
matplotlib.use("Agg")  # Files only: no display on a training machine.
from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top,wrong-import-position

from i2a.reporting import run_groups
from i2a.reporting import tables

_Y_LABELS = {"solve_rate": "fraction of levels solved", "episode_return": "episode return"}


def plot_curves(curves: Sequence[tables.Curve], path: str, dpi: int = 100) -> None:
  """Writes the curves as a PNG at `path`: panels side by side, each 6 x 4.5 inches at `dpi`."""
  panels = run_groups.by_panel(curves)
  figure, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4.5), squeeze=False)
  for ax, ((panel, metric), members) in zip(axes[0], panels.items()):
    for index, curve in enumerate(members):
      color = f"C{index % 10}"
      runs = len(curve.runs)
      ax.plot(curve.frames, curve.center, color=color, label=f"{curve.agent} ({runs} run{'s' * (runs > 1)})")
      if runs > 1:
        ax.fill_between(curve.frames, curve.low, curve.high, color=color, alpha=0.25, linewidth=0)
    ax.set_title(panel or metric)
    ax.set_xlabel("environment frames")
    ax.set_ylabel(_Y_LABELS.get(metric, metric))
    ax.ticklabel_format(axis="x", style="sci", scilimits=(0, 0))
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize="small")
  figure.tight_layout()
  figure.savefig(path, dpi=dpi, format="png")
  plt.close(figure)
