"""The paper's other Sokoban experiments (issue 24) declared as data, at the configuration of a base study.

    spec = ablations.SOKOBAN_SMALL_ABLATIONS
    [arm.name for arm in spec.arms]       # 'i2a_d1', 'i2a_d3', 'i2a_poor_model', ...

Each training arm is the base study's agent flag file plus the ablated flags, and nothing else (a new
seed and logdir, and the environment model it loads where the ablation is the model). The base study's
data, environment model and agents are not retrained: `ablation_runs.build` puts the base study's runs
into the graph as the runs the ablations wait for, under their own keys and directories.

Stages (issue 24's order): 0, the evaluation-only parts (search and generalisation, on the base
study's agents); 1, the headline ablations (depth, poor model); 2, the rest.

Machine time per arm is estimated, not measured: I2A's measured speed in the base study (350 frames/s,
studies.SOKOBAN_SMALL) times the ratio of the arm's time per frame to I2A's, where time per frame is a
fit to results/README.md's benchmark (section 1, "A right-sized environment model": 241 and 110
frames/s at 169 and 738 MFLOP per frame of acting and learning, so t = 2.68 ms + 8.68 us per MFLOP;
the copy agent's 132 MFLOP predicts 261 frames/s, measured 274). The MFLOP are launch.benchmark_train's
count (model_cost.count_flops of one policy step and one learner step per frame) with each arm's flags.
"""
import dataclasses
from typing import Optional

from i2a.study import studies

_OVERHEAD_MS, _MS_PER_MFLOP = 2.68, 0.00868  # The fit above.
_I2A_MFLOP = 169.0  # The base study's I2A (depth 5, 'small' model): 82.2 acting + 86.8 learning.


def estimated_speed(mflop_per_frame: float, base: studies.Speed) -> studies.Speed:
  """The speed of an agent costing `mflop_per_frame` (act + learn), scaled from I2A's `base` speed."""
  ratio = (_OVERHEAD_MS + _MS_PER_MFLOP * _I2A_MFLOP) / (_OVERHEAD_MS + _MS_PER_MFLOP * mflop_per_frame)
  return studies.Speed(round(base.frames_per_sec * ratio),
                       f"estimated from {mflop_per_frame:.0f} MFLOP/frame and {base.measured} "
                       "(i2a/study/ablations.py)")


@dataclasses.dataclass(frozen=True)
class ModelArm:
  """An environment model fit on the base study's data with the base model's flag file plus `flags`.

  Attributes:
    name: the run's name, e.g. 'env_model_poor'.
    flags: the ablated flags, e.g. ('--env_model_size=poor',).
    seconds: its machine time (estimated).
    stage: the stage it runs in.
  """
  name: str
  flags: tuple[str, ...]
  seconds: float
  stage: int


@dataclasses.dataclass(frozen=True)
class Arm:
  """A training arm: the base study's `agent` flag file plus `flags`, `seeds` seeds.

  Attributes:
    name: the arm's name, e.g. 'i2a_d1'; its runs are '<study>/<name>_s<seed>'.
    experiment: the experiment (and report) it belongs to, a key of `AblationStudy.experiments`.
    flags: the ablated flags.
    seeds: seeds 1..seeds (3, or 2 where the budget forces it).
    mflop_per_frame: acting + learning MFLOP per frame, for the speed estimate.
    model: the `ModelArm` it loads instead of the base study's model, or None.
    stage: the stage it runs in.
  """
  name: str
  experiment: str
  flags: tuple[str, ...]
  seeds: int
  mflop_per_frame: float
  model: Optional[str] = None
  stage: int = 1


@dataclasses.dataclass(frozen=True)
class Experiment:
  """One report: the arms' curves beside the base study's agents.

  Attributes:
    title: what the report shows.
    labels: (label, base agent) of the base study's agents drawn beside the arms.
    arm_labels: (label, arm name) of the arms.
    compare_to: the label P(it beats each other agent) is given for.
    stage: the stage of its report.
  """
  title: str
  labels: tuple[tuple[str, str], ...]
  arm_labels: tuple[tuple[str, str], ...]
  compare_to: str
  stage: int


@dataclasses.dataclass(frozen=True)
class AblationStudy:
  """The ablation study as data.

  Attributes:
    name: the study's name; its keys start with '<name>/'.
    base: the base study whose flag files, data, model and agents it uses.
    base_seeds: the base study's seeds (its own command's --seeds) whose agents are evaluated.
    agent: the base agent every arm starts from.
    models: the environment models it fits.
    arms: the training arms.
    experiments: name -> the report of each experiment.
    search_seeds: the base agent's seeds the search is evaluated on.
    max_retries: imagined episodes per level of the outer search (paper Sec. 4.3: 10).
    mcts_flagfiles: the paper's MCTS flag files, one per budget (Table 1).
    generalisation_agents: (label, base agent) evaluated with more boxes than they were trained with.
    extra_box_counts: the box counts added to the base study's evaluation (paper Table 2).
    stages: the stages' names.
  """
  name: str
  base: studies.AgentStudy
  base_seeds: int
  agent: str
  models: tuple[ModelArm, ...]
  arms: tuple[Arm, ...]
  experiments: dict[str, Experiment]
  search_seeds: int
  max_retries: int
  mcts_flagfiles: dict[str, str]
  generalisation_agents: tuple[tuple[str, str], ...]
  extra_box_counts: tuple[int, ...]
  stages: tuple[str, ...]


_BASE = studies.SOKOBAN_SMALL
_MODEL_SECONDS = _BASE.env_model_seconds  # The same 12,000 updates; a smaller model is not slower.
SOKOBAN_SMALL_ABLATIONS = AblationStudy(
    name="sokoban_small_ablations",
    base=_BASE,
    base_seeds=5,  # results/README.md: `launch.study --study=sokoban_small --seeds=5`.
    agent="i2a",
    models=(
        # Paper Fig. 5: the same family, far fewer parameters; at 12x12 frames 9,220 against the base
        # model's 62,396, and one trunk layer, so a cell sees only its 3x3 neighbourhood.
        ModelArm("env_model_poor", ("--env_model_size=poor",), _MODEL_SECONDS, stage=1),
        # Paper Fig. 4 left, App. D.2: frames only (20,584 parameters: no reward head).
        ModelArm("env_model_no_reward", ("--predict_reward=false",), _MODEL_SECONDS, stage=2),
    ),
    arms=(
        # Seeds: 3 per arm would take about 36 machine-hours of this study's own runs and 2 about 24;
        # the budget (about 25) leaves a third seed for the cheapest arm only, depth 1.
        # Stage 1: depth (paper Fig. 4 right) and the poor model (Fig. 5). Depth 5 is the base study's
        # I2A. Depth 15 (505 MFLOP/frame, about 2.7 h per seed) is left out for the budget.
        Arm("i2a_d1", "depth", ("--rollout_depth=1",), 3, 34.7),
        Arm("i2a_d3", "depth", ("--rollout_depth=3",), 2, 101.8),
        Arm("i2a_poor_model", "poor_model", ("--env_model_size=poor",), 2, 130.2, model="env_model_poor"),
        # Stage 2.
        Arm("mc", "poor_model", ("--agent=mc",), 2, 125.6, stage=2),
        Arm("mc_poor_model", "poor_model", ("--agent=mc", "--env_model_size=poor"), 2, 44.1,
            model="env_model_poor", stage=2),
        Arm("i2a_no_reward", "frames_only", ("--predict_reward=false",), 2, 158.9, model="env_model_no_reward",
            stage=2),
        Arm("i2a_encoder_forward", "encoder", ("--encoder_direction=forward",), 2, 169.0, stage=2),
        Arm("i2a_encoder_bidirectional", "encoder", ("--encoder_direction=bidirectional",), 2, 247.3, stage=2),
    ),
    experiments={
        "depth": Experiment("Rollout depth (paper Fig. 4 right)", (("depth 5", "i2a"),),
                            (("depth 1", "i2a_d1"), ("depth 3", "i2a_d3")), "depth 5", stage=1),
        "poor_model": Experiment(
            "Poor environment model and the Monte Carlo agent (paper Fig. 5)",
            (("I2A", "i2a"), ("standard", "standard")),
            (("I2A poor model", "i2a_poor_model"), ("MC", "mc"), ("MC poor model", "mc_poor_model")),
            "I2A", stage=2),
        "frames_only": Experiment("Frames-only environment model (paper Fig. 4 left, App. D.2)",
                                  (("I2A", "i2a"),), (("I2A frames only", "i2a_no_reward"),), "I2A", stage=2),
        "encoder": Experiment("Rollout encoder direction (paper Sec. 3.2, footnote 1)", (("backward", "i2a"),),
                              (("forward", "i2a_encoder_forward"), ("bidirectional", "i2a_encoder_bidirectional")),
                              "backward", stage=2),
    },
    search_seeds=3,
    max_retries=10,
    mcts_flagfiles={"mcts_25k": "launch/configs/mcts_sokoban_25k.flags",
                    "mcts_100k": "launch/configs/mcts_sokoban_100k.flags"},
    generalisation_agents=(("standard", "standard"), ("I2A", "i2a")),
    extra_box_counts=(3,),
    stages=("evaluations: search and generalisation", "depth and poor model", "the rest"),
)
STUDIES = {SOKOBAN_SMALL_ABLATIONS.name: SOKOBAN_SMALL_ABLATIONS}
