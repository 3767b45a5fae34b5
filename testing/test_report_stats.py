"""launch.report's statistics over seeds on synthetic numbers with known answers: the interquartile mean
for 2-8 runs, bootstrap intervals (contain the truth, shrink with more seeds, reproducible, none for one
run), P(X > Y), Wilson intervals against the closed form, frames to reach a level with censoring, and
the tables built from curves (Agarwal et al. 2021's method, seed_stats)."""
import csv

import numpy as np
import pytest
from scipy import stats

from i2a.reporting import run_groups
from i2a.reporting import seed_stats
from i2a.reporting import stats_tables
from i2a.reporting import tables


@pytest.mark.parametrize("values,expected", [
    ([1.0, 4.0], 2.5),                                  # n=2: nothing cut, the mean.
    ([9.0, 1.0, 4.0], 14 / 3),                          # n=3: nothing cut (floor(3/4) = 0), the mean of all 3.
    ([16.0, 1.0, 9.0, 4.0], 6.5),                       # n=4: one cut from each end, the middle 2.
    ([25.0, 1.0, 16.0, 4.0, 9.0], 29 / 3),              # n=5: the middle 3.
    ([1.0, 4.0, 9.0, 16.0, 25.0, 36.0, 49.0, 64.0], 21.5)])  # n=8: the middle 4 (9, 16, 25, 36).
def test_iqm_of_known_arrays(values, expected):
  assert seed_stats.iqm(np.array(values)) == pytest.approx(expected)


def test_iqm_ignores_outliers_where_the_mean_does_not():
  values = np.array([0.5, 0.52, 0.48, 0.51, 0.49, 0.5, 0.5, -100.0])
  assert seed_stats.iqm(values) == pytest.approx(0.5, abs=0.01)
  assert np.mean(values) < -10


def _quantile_sample(n: int, mean: float = 0.6, sd: float = 0.1) -> np.ndarray:
  """n runs at the normal distribution's (i + 0.5) / n quantiles: symmetric about `mean`, no noise."""
  return mean + sd * stats.norm.ppf((np.arange(n) + 0.5) / n)


def test_bootstrap_interval_contains_the_truth_and_shrinks_with_more_seeds():
  widths = {}
  for n in (5, 20, 80):
    estimate = seed_stats.summarize(_quantile_sample(n), "iqm", seed=3)
    assert estimate.value == pytest.approx(0.6) and estimate.runs == n
    assert estimate.low < 0.6 < estimate.high
    widths[n] = estimate.high - estimate.low
  assert widths[80] < 0.7 * widths[20] < 0.7 * 0.7 * widths[5]


def test_bootstrap_interval_covers_the_population_iqm_about_95_percent_of_the_time():
  rng = np.random.default_rng(11)
  hits = 0
  for trial in range(200):
    sample = rng.normal(0.6, 0.1, size=10)  # Symmetric: the population's IQM is its mean.
    low, high = seed_stats.bootstrap_interval([sample], seed_stats.iqm, seed=trial, resamples=2000)
    hits += low <= 0.6 <= high
  assert 0.8 <= hits / 200 <= 1.0  # A percentile bootstrap under-covers a little at n = 10.


def test_bootstrap_is_reproducible_and_one_run_has_no_interval():
  sample = np.random.default_rng(5).uniform(size=6)
  assert seed_stats.summarize(sample, "median", seed=7) == seed_stats.summarize(sample, "median", seed=7)
  assert seed_stats.summarize([0.25], "iqm") == seed_stats.Estimate(0.25, None, None, 1)
  for n in (2, 3):  # rliable's IQM keeps every run of 2 or 3.
    sample = np.random.default_rng(n).uniform(size=n)
    estimate = seed_stats.summarize(sample, "iqm")
    assert estimate.value == pytest.approx(np.mean(sample))
    # A resample of one run repeated has that run's value as its mean, up to rounding.
    assert min(sample) - 1e-12 <= estimate.low <= estimate.value <= estimate.high <= max(sample) + 1e-12


def test_bootstrap_of_curves_is_pointwise():
  stacked = np.stack([_quantile_sample(9, mean=m) for m in (0.1, 0.5, 0.9)])  # [frames 3, runs 9]
  low, high = seed_stats.bootstrap_interval([stacked], seed_stats.iqm, seed=1)
  assert low.shape == high.shape == (3,)
  np.testing.assert_allclose(high - low, (high - low)[0])  # Shifted copies: the same width...
  assert np.all(low < [0.1, 0.5, 0.9]) and np.all([0.1, 0.5, 0.9] < high)  # ...around each mean.


def test_probability_better_known_values():
  assert seed_stats.probability_better([1.0, 2.0, 3.0], [2.0]) == pytest.approx(0.5)
  assert seed_stats.probability_better([1.0, 2.0, 3.0], [0.0, 2.0]) == pytest.approx(4.5 / 6)
  x, y = np.random.default_rng(2).uniform(size=(2, 7))
  assert seed_stats.probability_better(x, y) + seed_stats.probability_better(y, x) == pytest.approx(1.0)


def test_dominating_runs_win_with_probability_one():
  estimate = seed_stats.compare([0.9, 0.95, 0.8, 1.0], [0.1, 0.3, 0.2])
  assert (estimate.value, estimate.low, estimate.high) == (1.0, 1.0, 1.0)
  reversed_ = seed_stats.compare([0.1, 0.3, 0.2], [0.9, 0.95, 0.8, 1.0])
  assert (reversed_.value, reversed_.low, reversed_.high) == (0.0, 0.0, 0.0)


def test_identical_distributions_give_one_half():
  sample = np.random.default_rng(4).normal(size=6)
  same = seed_stats.compare(sample, sample.copy())
  assert same.value == 0.5 and same.low < 0.5 < same.high
  x, y = np.random.default_rng(8).normal(size=(2, 200))
  assert seed_stats.probability_better(x, y) == pytest.approx(0.5, abs=0.12)  # 4 standard errors.
  assert seed_stats.compare([0.5], [0.2, 0.4]).low is None  # One run of X: no interval.


def test_censored_frames_compare_as_slowest():
  # Fewer frames is better: compare negated frames. Never reaching the level loses to reaching it.
  assert seed_stats.compare(-np.array([100.0, 200.0]), -np.array([np.inf, np.inf])).value == 1.0
  assert seed_stats.compare(-np.array([np.inf, np.inf]), -np.array([np.inf, np.inf])).value == 0.5


@pytest.mark.parametrize("played", [1, 10, 500])
def test_wilson_interval_matches_the_closed_form(played):
  z = stats.norm.ppf(0.975)
  for solved in sorted({0, played // 2, played - 1, played} - {-1}):
    p = solved / played
    center = (p + z * z / (2 * played)) / (1 + z * z / played)
    half = z / (1 + z * z / played) * np.sqrt(p * (1 - p) / played + z * z / (4 * played * played))
    np.testing.assert_allclose(seed_stats.wilson_interval(solved, played), [center - half, center + half],
                               atol=1e-12)
  low, high = seed_stats.wilson_interval(0, played)
  assert low == pytest.approx(0.0, abs=1e-12) and 0 < high < 1  # Not empty at k = 0 ...
  low, high = seed_stats.wilson_interval(played, played)
  assert 0 < low < 1 and high == pytest.approx(1.0)  # ... nor at k = N.


def test_frames_to_reach_on_a_synthetic_curve():
  frames = np.arange(100, 1001, 100, dtype=np.int64)
  values = frames / 1000  # 0.1, 0.2, ..., 1.0
  assert seed_stats.frames_to_reach(frames, values, 0.5) == 500
  assert seed_stats.frames_to_reach(frames, values, 0.55) == 600
  assert seed_stats.frames_to_reach(frames, values, 1.0) == 1000
  assert seed_stats.frames_to_reach(frames, values, 1.01) == np.inf
  smoothed = tables.smooth(values, 3)  # Trails by one point: 0.5 first at 600 frames.
  assert seed_stats.frames_to_reach(frames, smoothed, 0.5) == 600


def test_censored_statistics_report_a_lower_bound():
  last = np.array([1000.0, 1000.0, 300.0, 400.0, 500.0])
  median = seed_stats.summarize([100.0, 200.0, np.inf, np.inf, np.inf], "median", last_frames=last)
  assert median.value == np.inf and median.bound == 300.0 and median.low == 100.0 and median.high == np.inf
  iqm = seed_stats.summarize([100.0, 200.0, np.inf, np.inf, np.inf], "iqm", last_frames=last)
  assert iqm.value == np.inf and iqm.bound == pytest.approx((200 + 300 + 400) / 3)
  finite = seed_stats.summarize([100.0, 200.0, 300.0, 400.0, np.inf], "median", last_frames=last)
  assert (finite.value, finite.bound) == (300.0, None) and np.isfinite(finite.low)


def _run(agent: str, seed: int, rate: float, evaluation=None) -> run_groups.Run:
  frames = np.arange(1000, 10001, 1000, dtype=np.int64)
  values = np.minimum(1.0, rate * frames / 10000)
  evaluations, counts = ({}, {}) if evaluation is None else (
      {"sampled, 1 boxes": evaluation[0] / evaluation[1]}, {"sampled, 1 boxes": evaluation})
  return run_groups.Run(f"runs/{agent}_s{seed}", agent, "sokoban 6x6, 1 box", seed,
                       {"solve_rate": (frames, values)}, 0.0, evaluations, None, counts)


def test_tables_from_curves(tmp_path):
  runs = ([_run("i2a depth5", s, r, (e, 100)) for s, r, e in ((1, 1.0, 100), (2, 1.2, 98), (3, 1.1, 99))]
          + [_run("standard", s, r) for s, r in ((1, 0.3, ), (2, 0.35))] + [_run("copy depth5", 1, 0.8, (80, 100))])
  curves, _ = tables.build_curves(runs, band="bootstrap")
  i2a = curves[0]
  assert np.all(i2a.low <= i2a.center) and np.all(i2a.center <= i2a.high)
  np.testing.assert_allclose(i2a.center, np.mean([p[2] for p in i2a.points], axis=0))  # IQM of 3 = mean.
  rows, notes = stats_tables.compute(curves, last_points=2, compare_to="i2a", resamples=1000)
  assert notes == []
  got = {(r.agent, r.versus, r.quantity, r.statistic): r for r in rows}
  assert got[("i2a depth5", "", "frames to 50%", "median")].estimate.value == 5000  # Rate 1.0 reaches 0.5 at 5k.
  assert got[("standard", "", "frames to 50%", "iqm")].estimate.bound == 10000  # Never: censored at its end.
  wilson = got[("i2a depth5", "", "eval sampled, 1 boxes", "wilson")]
  assert wilson.counts == (297, 300) and wilson.estimate.value == pytest.approx(0.99)
  assert got[("i2a depth5", "standard", "final solve_rate", "p_better")].estimate.value == 1.0
  assert got[("i2a depth5", "copy depth5", "eval sampled, 1 boxes", "p_better")].estimate.low is None  # 1 copy run.
  assert got[("copy depth5", "", "final solve_rate", "iqm")].estimate.low is None
  text = stats_tables.markdown(rows, seed=0, resamples=1000)
  assert "| copy depth5 | final solve_rate | 1 | 0.760 (1 seed) | 0.760 (1 seed) | - |" in text  # (0.72 + 0.8) / 2.
  assert "| copy depth5 | eval sampled, 1 boxes | 1 | 0.800 (1 seed) | 0.800 (1 seed) | 80/100 = 0.800 " in text
  assert "P(i2a depth5 > other)" in text
  stats_tables.write_csv(rows, str(tmp_path / "stats.csv"))
  with open(tmp_path / "stats.csv") as f:
    written = list(csv.DictReader(f))
  assert len(written) == len(rows)
  assert {r["statistic"] for r in written} == {"iqm", "median", "wilson", "p_better"}


@pytest.mark.parametrize("name,message", [("a2c", "no agent is called so"),
                                          ("i2a", "several agents start with it")])
def test_compare_to_must_name_one_agent(name, message):
  with pytest.raises(run_groups.ReportError, match=message):
    stats_tables.resolve_agent(name, ["i2a depth5", "i2a depth3", "standard"])
  assert stats_tables.resolve_agent("standard", ["i2a depth5", "standard"]) == "standard"
