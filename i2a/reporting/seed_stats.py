"""Statistics over an agent's seeds for launch.report, after Agarwal et al. 2021 ("Deep reinforcement
learning at the edge of the statistical precipice", the method of the rliable package), with
scipy.stats.

- Interquartile mean (IQM): `scipy.stats.trim_mean(x, 0.25)`, as rliable computes it. It cuts
  floor(n / 4) runs from each end, so with n = 2 or 3 runs nothing is cut and the IQM is the plain
  mean of all runs (not the median: with 3 runs the outer two stay in); n = 4: the mean of the middle
  2; n = 5: the middle 3; n = 8: the middle 4. The median is given beside it.
- Interval: a 95% percentile bootstrap over seeds, stratified: each agent's runs are resampled with
  replacement on their own (`scipy.stats.bootstrap` with paired=False; with one task per table, an
  agent is a stratum, as in rliable). The interval's ends are taken from the bootstrap distribution
  without interpolation (the 'lower' value at 2.5%, the 'higher' at 97.5%), so infinite values never
  turn into NaN; that widens it by at most one resample. The resampling is seeded, so a report is
  reproducible. With one run there is no interval (`Estimate.low` is None); with 2 or 3 runs an
  interval exists but rests on very few distinct resamples.
- Censoring (frames to reach a solve rate): a run whose smoothed curve never reaches the level
  needed more frames than it ran, so it counts as +infinity; nothing is dropped. IQM and median are
  non-decreasing in every value, so an infinite statistic (censored runs reach the kept middle) is
  reported with a lower bound, `Estimate.bound`: the same statistic with each censored run at its
  last logged frame. A finite statistic or interval end is exact despite censoring.
- P(X > Y): the probability of improvement, the fraction of pairs (a run of X, a run of Y) in which
  X's run is better, ties counting one half (the Mann-Whitney U statistic over m * n), with a
  stratified bootstrap interval (X's and Y's runs resampled separately) when both have >= 2 runs.
- Wilson score interval for a solve rate k / N over N evaluation levels (`scipy.stats.binomtest`):
  the uncertainty of sampling the levels, which the seed interval does not contain. Kept apart from
  it (Wilson 1927; it stays inside [0, 1] and is not empty at k = 0 or k = N).
"""
import dataclasses
from typing import Callable, Optional, Sequence
import warnings

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
RESAMPLES = 10_000
_MAX_BATCH_ELEMENTS = 4_000_000  # Resampled values held at once: bounds the bootstrap's memory.


@dataclasses.dataclass(frozen=True)
class Estimate:
  """A statistic over runs with its bootstrap interval.

  Attributes:
    value: the statistic; inf where censored runs reach the middle (see `bound`).
    low, high: the interval's ends (may be inf), None with fewer than 2 runs per stratum.
    runs: the number of runs it is computed from (of X, for a probability of improvement).
    bound: where `value` is inf, a lower bound on it (the statistic with each censored run at its last
      frame); else None.
  """
  value: float
  low: Optional[float]
  high: Optional[float]
  runs: int
  bound: Optional[float] = None


def iqm(values: np.ndarray, axis: int = -1) -> np.ndarray:
  """Interquartile mean along `axis` (`scipy.stats.trim_mean` cutting 25% from each end)."""
  return stats.trim_mean(values, 0.25, axis=axis)


def median(values: np.ndarray, axis: int = -1) -> np.ndarray:
  """Median along `axis`."""
  return np.median(values, axis=axis)


STATISTICS = {"iqm": iqm, "median": median}


def probability_better(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
  """P(X > Y) over all pairs of a run of X and a run of Y, ties counting 1/2.

  Args:
    x: [..., m] scores of X's runs along `axis` (higher is better).
    y: [..., n] scores of Y's runs along `axis`; leading dimensions broadcast with x's.
    axis: the runs' axis.
  Returns:
    [...] float64 in [0, 1].
  """
  x = np.moveaxis(np.asarray(x, np.float64), axis, -1)[..., :, None]
  y = np.moveaxis(np.asarray(y, np.float64), axis, -1)[..., None, :]
  return np.mean((x > y) + 0.5 * (x == y), axis=(-2, -1))


def bootstrap_interval(samples: Sequence[np.ndarray], statistic: Callable, seed: int = 0,
                       resamples: int = RESAMPLES, confidence: float = CONFIDENCE) -> tuple:
  """Stratified percentile-bootstrap interval of `statistic(*samples, axis=-1)`.

  Args:
    samples: one array [..., n_i] per stratum (an agent's runs along the last axis), each resampled
      with replacement on its own; leading dimensions (e.g. frames of a curve) are independent
      statistics sharing the resampled runs.
    statistic: f(*samples, axis=-1) -> [...], vectorized over leading dimensions.
    seed: the resampling's seed.
    resamples: bootstrap resamples.
    confidence: the interval's coverage.
  Returns:
    (low, high): float64 arrays [...] (0-d for 1-d samples).
  """
  samples = [np.asarray(s, np.float64) for s in samples]
  # Upper bound on one resample's elements: the resampled runs, or the pairs probability_better forms.
  per_resample = sum(s.size for s in samples) * max(s.shape[-1] for s in samples)
  with warnings.catch_warnings(), np.errstate(invalid="ignore", over="ignore"):
    # The percentile CI scipy reports may be NaN where the distribution holds inf (its standard error
    # too); neither is used: the ends come from the distribution below.
    warnings.simplefilter("ignore", stats.DegenerateDataWarning)
    warnings.simplefilter("ignore", RuntimeWarning)
    result = stats.bootstrap(samples, statistic, n_resamples=resamples, vectorized=True, paired=False,
                             axis=-1, method="percentile", confidence_level=confidence,
                             batch=max(1, _MAX_BATCH_ELEMENTS // max(1, per_resample)),
                             rng=np.random.default_rng(seed))
  distribution = result.bootstrap_distribution
  alpha = (1 - confidence) / 2
  return (np.quantile(distribution, alpha, axis=-1, method="lower"),
          np.quantile(distribution, 1 - alpha, axis=-1, method="higher"))


def summarize(values: Sequence[float], statistic: str = "iqm", seed: int = 0, resamples: int = RESAMPLES,
              last_frames: Optional[Sequence[float]] = None) -> Estimate:
  """A statistic of one agent's runs with its bootstrap interval.

  Args:
    values: [n] one value per run; inf for a censored run.
    statistic: 'iqm' or 'median'.
    seed: the bootstrap's seed.
    resamples: bootstrap resamples.
    last_frames: [n] for censored quantities, each run's last logged frame (the lower bound of an
      inf value); None otherwise.
  Returns:
    The Estimate (no interval for one run).
  """
  function = STATISTICS[statistic]
  values = np.asarray(values, np.float64)
  value = float(function(values))
  bound = None
  if np.isinf(value) and last_frames is not None:
    bound = float(function(np.where(np.isinf(values), np.asarray(last_frames, np.float64), values)))
  if len(values) < 2:
    return Estimate(value, None, None, len(values), bound)
  low, high = bootstrap_interval([values], function, seed, resamples)
  return Estimate(value, float(low), float(high), len(values), bound)


def compare(x: Sequence[float], y: Sequence[float], seed: int = 0, resamples: int = RESAMPLES) -> Estimate:
  """P(X > Y) of two agents' runs (higher is better; negate frames-to-threshold), with its interval
  when each agent has at least 2 runs."""
  x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
  value = float(probability_better(x, y))
  if len(x) < 2 or len(y) < 2:
    return Estimate(value, None, None, len(x))
  low, high = bootstrap_interval([x, y], probability_better, seed, resamples)
  return Estimate(value, float(low), float(high), len(x))


def wilson_interval(solved: int, played: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
  """Wilson score interval of a solve rate `solved` / `played` (played >= 1 levels)."""
  interval = stats.binomtest(int(solved), int(played)).proportion_ci(confidence, method="wilson")
  return float(interval.low), float(interval.high)


def frames_to_reach(frames: np.ndarray, smoothed: np.ndarray, level: float) -> float:
  """The first logged frame count at which the smoothed curve is >= `level`; inf if it never is.

  Args:
    frames: [N] int64 frame counts, increasing.
    smoothed: [N] float64 (smoothed) values at those frames.
    level: the value to reach, e.g. 0.5 solved.
  Returns:
    The frame count as a float, or inf (censored at frames[-1]).
  """
  reached = np.flatnonzero(np.asarray(smoothed) >= level)
  return float(frames[reached[0]]) if len(reached) else float("inf")
