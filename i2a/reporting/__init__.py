"""Reporting: what `launch.report` reads and writes, from the files a run leaves behind (paper Fig. 4 and
App. B's learning curves, with statistics over seeds).

run_reader (one run's scalars, config and evaluations, from a logdir or an exported summary) ->
run_groups (runs grouped by agent and game) -> tables (curves over seeds, CSV, the Markdown table) and
seed_stats -> stats_tables (interquartile means, bootstrap and Wilson intervals) -> plots (the figure).
run_summary exports a run's summary to results/ so that a report survives the machine.
It reads files only: it imports nothing else from `i2a`, and no training or talk module imports it.
"""
