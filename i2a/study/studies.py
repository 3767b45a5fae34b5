"""The declared studies: which flag files, agents, seeds and evaluations, and each run's measured speed.

    study = studies.build("sokoban_small", seeds=5, runs_dir="runs", results_dir="results")

A study is declared as an `AgentStudy` (plain data); `build` turns it into the graph of runs, reading
every path and budget from the flag files in launch/configs, so the study defines nothing twice:

    data_agent (the first agent's seed 1, stopped at data_agent_frames) -> collect -> env_model
      -> agents x seeds (the data agent's run continues to its full budget after the collection;
         agents in `imagining` wait for the environment model) -> evaluations -> report

Per-run overrides are added only where the flag files do not already say the same thing: with the
default directories, seed 1's commands are exactly those of results/README.md, and other seeds add
`--seed=<s> --logdir=<runs_dir>/study_<study>_<agent>_s<s>`.
"""
import dataclasses
import os

from i2a.study import completion
from i2a.study import flagfiles
from i2a.study import graph

CONFIGS = "launch/configs"
EPISODE_CAP = 120  # Sokoban's --max_steps default (paper App. D): an evaluation's frames at most.


@dataclasses.dataclass(frozen=True)
class Speed:
  """A measured speed of one kind of run.

  Attributes:
    frames_per_sec: environment frames per second, alone on the machine.
    measured: the machine and the command it was measured with.
  """
  frames_per_sec: float
  measured: str


@dataclasses.dataclass(frozen=True)
class AgentStudy:
  """A reproduction study of agents with a learned environment model, as data.

  Attributes:
    name: the study's name; its flag files are launch/configs/study_<name>_<stage or agent>.flags.
    agents: the agents compared, each with a flag file; the first is also the data agent.
    imagining: the agents that need the study's environment model.
    speeds: each agent's measured training speed.
    data_agent_frames: the frames the data agent has when it plays the collection.
    collect_seconds, env_model_seconds, report_seconds: measured wall times of those stages.
    evaluation: launch.evaluate's flags shared by every evaluation, given after the agent's own.
    evaluation_levels: levels an evaluation plays (for its estimate).
    modes: evaluation modes: 'sampled' (the policy's samples) or 'greedy' (argmax).
    report: launch.report's flags besides --runs and --output_dir.
  """
  name: str
  agents: tuple[str, ...]
  imagining: tuple[str, ...]
  speeds: dict[str, Speed]
  data_agent_frames: int
  collect_seconds: float
  env_model_seconds: float
  report_seconds: float
  evaluation: tuple[str, ...]
  evaluation_levels: int
  modes: tuple[str, ...] = ("sampled", "greedy")
  report: tuple[str, ...] = ()

  def flagfile(self, part: str) -> str:
    return f"{CONFIGS}/study_{self.name}_{part}.flags"


_AMX = "2-core Intel Xeon with AMX (results/README.md, section 1)"
SOKOBAN_SMALL = AgentStudy(
    name="sokoban_small",
    agents=("standard", "large", "copy", "i2a"),
    imagining=("i2a",),
    speeds={
        # Training, not the learner-only benchmark (13,600-18,000): this study's data agent on 2026-12-07,
        # `launch.train --flagfile=launch/configs/study_sokoban_small_standard.flags --total_frames=1000000`,
        # 4,205-4,459 frames/s in its progress lines, at load average 3-5.
        "standard": Speed(4_300, f"{_AMX}, launch.train, data agent of 2026-12-07"),
        # The study's 2M-frame runs took 0.25 h each (results/README.md's table), on a shared machine.
        "large": Speed(2_200, f"{_AMX}, launch.train, shared machine"),
        # `launch.benchmark_train --games=sokoban --room_size=6 --num_boxes=1 --pixels_per_cell=2
        # --torso=16:3:1,16:3:2 --hidden_size=128 --lstm_size=128 --rollout_hidden_size=128
        # --precisions=bfloat16 --reuse=true`, alone (results/README.md); its run took 1.3 h shared.
        "copy": Speed(1_100, f"{_AMX}, launch.benchmark_train"),
        # With the study's 32-channel environment model (WORKSPACE.md, deviation 45): seed 1's
        # training run of 2026-12-07 averaged about 350 frames/s at load average 9-14 (shared with the
        # test suite and three other jobs); launch.benchmark_train measured 2.2x the 128-channel model's
        # speed in float32, which ran at 540 in training alone, so alone it is faster than this.
        "i2a": Speed(350, f"{_AMX}, launch.train, shared machine"),
    },
    data_agent_frames=1_000_000,
    collect_seconds=60.0,  # 253,952 steps in about 1 min (results/README.md, stage 2).
    env_model_seconds=290.0,  # 12,000 Adam steps of the 32-channel model in 4.8 min, shared machine.
    report_seconds=60.0,  # Not measured; reading some 20 runs' scalars.
    # launch.evaluate's --seed seeds the levels (and the agent's sampling); given after the agent's flag
    # file, whose --seed is the training seed, so every agent and seed plays the same 500 levels per box
    # count (results/README.md section 1: --eval_seed 123456 before the flags were unified).
    evaluation=("--num_levels=500", "--box_counts=1,2", "--seed=123456"),
    evaluation_levels=1000,  # 500 per box count.
    # The README's report: bootstrap bands over seeds and P(I2A > baseline) (Agarwal et al., 2021).
    report=("--band=bootstrap", "--compare_to=i2a", "--smoothing=3", "--last_points=3"),
)
STUDIES = {SOKOBAN_SMALL.name: SOKOBAN_SMALL}


def _relocated(path: str, directory: str) -> str:
  """A flag file's `runs/<name>` (or `data/<name>`) as `<directory>/<name>`."""
  return os.path.join(directory, os.path.basename(os.path.normpath(path)))


def _overrides(values: dict, wanted: dict) -> list[str]:
  """`--name=value` for each wanted value the flag files do not already give."""
  return [f"--{name}={value}" for name, value in wanted.items() if values.get(name) != str(value)]


def build(name: str, seeds: int, runs_dir: str = "runs", results_dir: str = "results",
          data_dir: str = "data") -> graph.Study:
  """The study `name` with `seeds` seeds per agent (1..seeds), its runs under `runs_dir`, its collected
  data under `data_dir` and its report under `results_dir`.

  Raises:
    ValueError: an unknown study, fewer than one seed, or flag files that are missing or disagree.
  """
  if name not in STUDIES:
    raise ValueError(f"Unknown study {name!r}; the declared studies are {', '.join(sorted(STUDIES))}.")
  if seeds < 1:
    raise ValueError(f"--seeds={seeds}: give at least 1 seed per agent.")
  spec = STUDIES[name]
  return graph.Study(name, tuple(_runs(spec, seeds, runs_dir, results_dir, data_dir)), report_dir=name)


def _runs(spec: AgentStudy, seeds: int, runs_dir: str, results_dir: str, data_dir: str) -> list[graph.Run]:
  key = lambda part: f"{spec.name}/{part}"
  logdir = lambda agent, seed: os.path.join(runs_dir, f"study_{spec.name}_{agent}_s{seed}")
  first = spec.agents[0]
  agent_values = {a: flagfiles.flag_values([f"--flagfile={spec.flagfile(a)}"]) for a in spec.agents}
  collect_args = [f"--flagfile={spec.flagfile('collect')}"]
  collect = flagfiles.flag_values(collect_args)
  data = _relocated(flagfiles.required(collect, "output_dir", collect_args[0]), data_dir)
  collect_args += _overrides(collect, {"agent_checkpoint": logdir(first, 1), "output_dir": data})  # The data agent.
  model_args = [f"--flagfile={spec.flagfile('env_model')}"]
  model = flagfiles.flag_values(model_args)
  if flagfiles.required(model, "data", model_args[0]) != collect["output_dir"]:
    raise ValueError(f"{model_args[0]} does not read the data {collect_args[0]} writes.")
  model_dir = _relocated(flagfiles.required(model, "logdir", model_args[0]), runs_dir)
  model_args += _overrides(model, {"data": data, "logdir": model_dir})

  def agent_args(agent, seed):
    args = [f"--flagfile={spec.flagfile(agent)}"]
    wanted = dict(seed=seed, logdir=logdir(agent, seed))
    if agent in spec.imagining:
      wanted["env_model_checkpoint"] = model_dir
    return args + _overrides(agent_values[agent], wanted)

  speed = lambda agent: spec.speeds[agent].frames_per_sec
  total = lambda agent: int(flagfiles.required(agent_values[agent], "total_frames", spec.flagfile(agent)))
  data_agent_dir = logdir(first, 1)
  summaries = graph.summaries_dir(results_dir, spec.name)
  runs = [
      graph.Run(key("data_agent"), ("-m", "launch.train", *agent_args(first, 1),
                                    f"--total_frames={spec.data_agent_frames}"), data_agent_dir,
                completion.CheckpointFrames(data_agent_dir, spec.data_agent_frames),
                work=graph.Work(spec.data_agent_frames, speed(first)), cpus=2),
      graph.Run(key("collect"), ("-m", "launch.collect", *collect_args), data,
                completion.DataManifest(data, int(collect["num_transitions"])),
                needs=(key("data_agent"),), work=graph.Work(seconds=spec.collect_seconds)),
      graph.Run(key("env_model"), ("-m", "launch.train_env_model", *model_args), model_dir,
                completion.ExportedModel(model_dir, int(model["steps"])), needs=(key("collect"),),
                # No summary: launch.report would read every exported summary as an agent's run.
                work=graph.Work(seconds=spec.env_model_seconds), cpus=2),
  ]
  trained, evaluations = [], []  # Listed together: each agent's run, then its evaluations.
  for seed in range(1, seeds + 1):
    for agent in spec.agents:
      run_dir, frames = logdir(agent, seed), total(agent)
      continues = agent == first and seed == 1  # The data agent's own run, continued after the collection.
      needs = ((key("collect"),) if continues else ()) + ((key("env_model"),) if agent in spec.imagining else ())
      start = spec.data_agent_frames if continues else 0
      trained.append(graph.Run(
          key(f"{agent}_s{seed}"), ("-m", "launch.train", *agent_args(agent, seed)), run_dir,
          completion.CheckpointFrames(run_dir, frames, from_frames=start), needs=needs,
          work=graph.Work(frames - start, speed(agent)), summary_dir=run_dir, summaries_dir=summaries, cpus=2))
      for mode in spec.modes:
        output_dir = os.path.join(run_dir, f"eval_{mode}")
        evaluations.append(graph.Run(
            key(f"{agent}_s{seed}/eval_{mode}"),
            ("-m", "launch.evaluate", *agent_args(agent, seed), *spec.evaluation,
             *(("--greedy",) if mode == "greedy" else ()), f"--output_dir={output_dir}"),
            output_dir, completion.EvalResults(output_dir, frames), needs=(key(f"{agent}_s{seed}"),),
            work=graph.Work(spec.evaluation_levels * EPISODE_CAP, speed(agent)), summary_dir=run_dir,
            summaries_dir=summaries))
      runs += [trained[-1], *evaluations[-len(spec.modes):]]
  return runs + [_report(spec, runs_dir, results_dir, trained, evaluations)]


def _report(spec: AgentStudy, runs_dir: str, results_dir: str, trained: list, evaluations: list) -> graph.Run:
  out = os.path.join(results_dir, spec.name)
  return graph.Run(
      # The exported summaries, not runs/: they are what survives a machine (state.py).
      f"{spec.name}/report", ("-m", "launch.report", f"--runs={','.join(r.summary_path for r in trained)}",
                              f"--output_dir={out}", *spec.report),
      os.path.join(runs_dir, f"study_{spec.name}_report"), completion.Marker(),
      needs=tuple(r.key for r in trained + evaluations), work=graph.Work(seconds=spec.report_seconds))
