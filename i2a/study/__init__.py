"""Studies: the runs of a reproduction study declared once, as data, and run with one command.

graph (runs, what each waits for, its command) -> completion (is a run done, from what its binary
leaves behind) -> state (every run's status, also from the summaries exported to results/ when the
run directories are gone) -> estimates (machine-hours left, the dry-run plan) -> execute (one run as
a subprocess with its log) -> runner (the graph locally, N runs side by side) and ray_runner (the graph as Ray tasks).
studies declares the agent studies from the flag files in launch/configs (flagfiles reads those);
ablations declares the paper's other experiments as arms of a base study, and ablation_runs builds
their graph around the base study's runs; registry builds any of them by name.
Each run is a subprocess of a launch binary, so this package imports from the training system only
what it reads (checkpoints, Ray's start-up), the run summaries from i2a/reporting, and never the
binaries.
"""
