"""The graph of an ablation study (ablations.py): the base study's runs it waits for, then its own.

    study = ablation_runs.build(ablations.SOKOBAN_SMALL_ABLATIONS, seeds=None, runs_dir="runs",
                                results_dir="results", data_dir="data")

Its own runs, by stage:
  0  search on the base I2A's seeds (launch.evaluate --outer_search: one attempt with the perfect
     model, which is the agent playing alone, and the outer search with its learned model), MCTS with
     the perfect model at each budget (launch.mcts_sokoban), the base agents evaluated with more boxes
     (launch.evaluate --box_counts), and the two tables (launch.report_evaluations);
  1-2 the environment models fit on the base study's data, the arms x seeds, one report per experiment.
The base study's runs they wait for keep their keys ('sokoban_small/i2a_s2') and directories, so both
studies find the same runs done; only those are taken, not the base study's other agents or report.
"""
import os
from typing import Optional

from i2a.study import ablations
from i2a.study import completion
from i2a.study import flagfiles
from i2a.study import graph
from i2a.study import studies

def _overrides(values: dict[str, str], wanted: dict) -> list[str]:
  """`--name=value` for each wanted value the flag files do not already give (as studies.py adds them)."""
  return [f"--{name}={value}" for name, value in wanted.items() if values.get(name) != str(value)]


def build(spec: ablations.AblationStudy, seeds: Optional[int], runs_dir: str = "runs",
          results_dir: str = "results", data_dir: str = "data") -> graph.Study:
  """The study `spec`, each arm with min(its seeds, `seeds`) seeds (all declared ones if None), and the
  base study's seeds 1..min(spec.base_seeds, `seeds`) evaluated.

  Raises:
    ValueError: fewer than one seed, or flag files that are missing or disagree.
  """
  if seeds is not None and seeds < 1:
    raise ValueError(f"--seeds={seeds}: give at least 1 seed per agent.")
  cap = lambda n: n if seeds is None else min(n, seeds)
  base = studies.build(spec.base.name, cap(spec.base_seeds), runs_dir, results_dir, data_dir)
  own = _Builder(spec, base, cap, runs_dir, results_dir).runs()
  needed = set()
  for run in own:
    needed |= {key for key in run.needs if not key.startswith(f"{spec.name}/")}
  for run in reversed(base.order()):  # Everything the taken base runs wait for, too.
    if run.key in needed:
      needed |= set(run.needs)
  borrowed = tuple(run for run in base.runs if run.key in needed)
  return graph.Study(spec.name, borrowed + tuple(own), report_dir=spec.name, stages=spec.stages)


class _Builder:
  """The ablation study's own runs, from the base study's graph."""

  def __init__(self, spec: ablations.AblationStudy, base: graph.Study, cap, runs_dir: str, results_dir: str):
    self.spec, self.base, self.cap = spec, base, cap
    self.runs_dir, self.results_dir = runs_dir, results_dir
    self.summaries = graph.summaries_dir(results_dir, spec.name)  # The arms' exported summaries.
    self.base_key = lambda part: f"{spec.base.name}/{part}"
    self.key = lambda part: f"{spec.name}/{part}"
    self.dir = lambda part: os.path.join(runs_dir, f"study_{spec.name}_{part}")
    # The base study's evaluation flags: its levels per box count and their seed, which the search and
    # generalisation runs give after the agent's flag file too, and MCTS as its own --seed (it then draws
    # the outer search's levels: test_study_ablations).
    self.evaluation = flagfiles.flag_values(list(spec.base.evaluation))
    self.eval_seed = self.evaluation["seed"]
    self.frames = {a: base[self.base_key(f"{a}_s1")].completion.total_frames for a in spec.base.agents}

  def runs(self) -> list[graph.Run]:
    return (self.search() + self.generalisation() + self.models() + self.arms()
            + [self.experiment_report(name) for name in self.spec.experiments])

  def agent_args(self, agent: str, seed: int) -> tuple[str, ...]:
    """The base study's training arguments of `agent`'s seed (after '-m launch.train')."""
    return self.base[self.base_key(f"{agent}_s{seed}")].args[2:]

  def search(self) -> list[graph.Run]:
    spec, agent = self.spec, self.spec.agent
    levels = self.evaluation["num_levels"]
    runs, rows = [], []
    for budget, flagfile in spec.mcts_flagfiles.items():
      common = flagfiles.flag_values([f"--flagfile={spec.base.flagfile('common')}"])
      out = os.path.join(self.dir("search"), budget)
      # The perfect model (paper Table 1), on the base study's rooms; no value network exists for them,
      # so UCT scores leaves 0. --seed draws the levels the outer search's --seed does (one generator).
      args = ("-m", "launch.mcts_sokoban", f"--flagfile={flagfile}", f"--room_size={common['room_size']}",
              f"--num_boxes={common['num_boxes']}", f"--num_levels={levels}", "--value=none",
              f"--seed={self.eval_seed}", f"--output_dir={os.path.join(out, 'results.json')}")
      runs.append(graph.Run(self.key(f"search/{budget}"), args, out, completion.Marker(after_upstream=False),
                            work=graph.Work(seconds=150.0)))  # 500 levels took 125-147 s (2026-12-07).
      rows.append(("MCTS " + budget.split("_")[1], out))
    for seed in range(1, self.cap(spec.search_seeds) + 1):
      for mode, flags in (("alone", ("--perfect_model", "--max_retries=1")),
                          ("outer", (f"--max_retries={spec.max_retries}",))):
        out = os.path.join(self.dir("search"), f"{agent}_s{seed}_{mode}")
        args = ("-m", "launch.evaluate", *self.agent_args(agent, seed), "--outer_search", *flags,
                f"--num_levels={levels}", f"--seed={self.eval_seed}", f"--output_dir={out}")
        runs.append(graph.Run(self.key(f"search/{agent}_s{seed}_{mode}"), args, out,
                              completion.EvalResults(out, self.frames[agent]),
                              needs=(self.base_key(f"{agent}_s{seed}"),),
                              # Measured for seed 1: 249 s alone, 370 s with the outer search.
                              work=graph.Work(seconds=250.0 if mode == "alone" else 370.0)))
        rows.append(({"alone": "I2A", "outer": "I2A + outer search"}[mode], out))
    return runs + [self.table("search", rows, runs)]

  def generalisation(self) -> list[graph.Run]:
    spec, runs, rows = self.spec, [], []
    boxes = ",".join(str(b) for b in spec.extra_box_counts)
    for label, agent in spec.generalisation_agents:
      for seed in range(1, self.cap(spec.base_seeds) + 1):
        train = self.base[self.base_key(f"{agent}_s{seed}")]
        out = os.path.join(train.run_dir, f"eval_boxes{boxes.replace(',', '_')}")
        args = ("-m", "launch.evaluate", *self.agent_args(agent, seed), f"--num_levels={self.evaluation['num_levels']}",
                f"--box_counts={boxes}", f"--seed={self.eval_seed}", f"--output_dir={out}")
        levels = int(self.evaluation["num_levels"]) * len(spec.extra_box_counts)
        runs.append(graph.Run(self.key(f"generalisation/{agent}_s{seed}"), args, out,
                              completion.EvalResults(out, self.frames[agent]), needs=(train.key,),
                              work=graph.Work(levels * studies.EPISODE_CAP, spec.base.speeds[agent].frames_per_sec),
                              summary_dir=train.run_dir, summaries_dir=train.summaries_dir))
        rows.append((label, train.summary_path))
    # The table also reads the base study's own evaluations (1 and 2 boxes, sampled).
    base_evals = tuple(self.base_key(f"{agent}_s{seed}/eval_sampled") for _, agent in spec.generalisation_agents
                       for seed in range(1, self.cap(spec.base_seeds) + 1))
    return runs + [self.table("generalisation", rows, runs, base_evals)]

  def table(self, name: str, rows: list, runs: list, extra_needs: tuple = ()) -> graph.Run:
    items = ",".join(f"{label}={path}" for label, path in rows)
    args = ("-m", "launch.report_evaluations", f"--{name}={items}",
            f"--output_dir={os.path.join(self.results_dir, self.spec.name, name)}")
    return graph.Run(self.key(f"{name}/report"), args, self.dir(f"report_{name}"), completion.Marker(),
                     needs=tuple(r.key for r in runs) + extra_needs, work=graph.Work(seconds=30.0))

  def models(self) -> list[graph.Run]:
    model = self.base[self.base_key("env_model")]
    runs = []
    for arm in self.spec.models:
      args = [a for a in model.args[2:] if not a.startswith("--logdir=")]  # The base model's data.
      out = self.dir(arm.name)
      values = flagfiles.flag_values([*args, *arm.flags])
      runs.append(graph.Run(self.key(arm.name), ("-m", "launch.train_env_model", *args, *arm.flags, f"--logdir={out}"),
                            out, completion.ExportedModel(out, int(values["steps"])), needs=(model.key,),
                            work=graph.Work(seconds=arm.seconds), cpus=2, stage=arm.stage))
    return runs

  def arm_dir(self, arm: ablations.Arm, seed: int) -> str:
    return self.dir(f"{arm.name}_s{seed}")

  def arms(self) -> list[graph.Run]:
    spec, runs = self.spec, []
    flagfile = f"--flagfile={spec.base.flagfile(spec.agent)}"
    i2a_speed = spec.base.speeds[spec.agent]
    for arm in spec.arms:
      values = flagfiles.flag_values([flagfile, *arm.flags])
      model = self.base[self.base_key("env_model")] if arm.model is None else None
      model_dir = model.run_dir if model else self.dir(arm.model)
      needs = (model.key if model else self.key(arm.model),)
      speed = ablations.estimated_speed(arm.mflop_per_frame, i2a_speed)
      frames = int(values["total_frames"])
      for seed in range(1, self.cap(arm.seeds) + 1):
        run_dir = self.arm_dir(arm, seed)
        wanted = dict(seed=seed, logdir=run_dir, env_model_checkpoint=model_dir)
        args = ("-m", "launch.train", flagfile, *arm.flags, *_overrides(values, wanted))
        runs.append(graph.Run(self.key(f"{arm.name}_s{seed}"), args, run_dir,
                              completion.CheckpointFrames(run_dir, frames), needs=needs,
                              work=graph.Work(frames, speed.frames_per_sec), summary_dir=run_dir,
                              summaries_dir=self.summaries, cpus=2,
                              stage=arm.stage))
    return runs

  def experiment_report(self, name: str) -> graph.Run:
    spec, experiment = self.spec, self.spec.experiments[name]
    dirs, labels, needs = [], [], []
    for label, agent in experiment.labels:
      keys = [self.base_key(f"{agent}_s{seed}") for seed in range(1, self.cap(spec.base_seeds) + 1)]
      dirs += [self.base[key].summary_path for key in keys]  # Exported summaries, as the base study's report.
      needs += keys
      labels.append(f"{label}=study_{spec.base.name}_{agent}_s*")
    for label, arm_name in experiment.arm_labels:
      arm = next(a for a in spec.arms if a.name == arm_name)
      seeds = range(1, self.cap(arm.seeds) + 1)
      dirs += [os.path.join(self.summaries, os.path.basename(self.arm_dir(arm, seed))) for seed in seeds]
      needs += [self.key(f"{arm.name}_s{seed}") for seed in seeds]
      labels.append(f"{label}=study_{spec.name}_{arm.name}_s*")
    args = ("-m", "launch.report", f"--runs={','.join(dirs)}", f"--labels={','.join(labels)}",
            f"--output_dir={os.path.join(self.results_dir, spec.name, name)}", *spec.base.report,
            f"--compare_to={experiment.compare_to}")  # Last: it overrides the base study's reference.
    return graph.Run(self.key(f"{name}/report"), args, self.dir(f"report_{name}"), completion.Marker(),
                     needs=tuple(needs), work=graph.Work(seconds=spec.base.report_seconds), stage=experiment.stage)
