"""`TrainConfig`: one training run, every setting declared once (i2a/settings.py).

`TrainConfig()` is the small default run of README.md, the one `python -m launch.train` runs with no
flags: the standard (model-free) agent with the talk's small torso on MiniPacman 'regular', 500k frames
on 2 actors. The paper's experiments are flag files (launch/configs/). `loop.train` runs a TrainConfig;
`stored_config` stores it as the run's config.json.
"""
import dataclasses
from typing import Optional

from i2a import configs
from i2a import games
from i2a import settings
from i2a.frame_processing import TALK_TORSO
from i2a.settings import setting
from i2a.training import environments
from i2a.training.learner_config import LearnerConfig

BACKENDS = ("local", "ray")
INFERENCE = ("actor", "central")  # Where the policy runs: in each actor, or one server (SEED RL).
_RESUME, _EVALUATION, _LIBRARY = settings.RESUME, settings.EVALUATION, settings.NO_FLAG
# The default run's agent: the talk's torso and FC width (a run that learns in minutes on 2 cores).
DEFAULT_AGENT = configs.AgentConfig(game="minipacman", task="regular", variant="standard", torso=TALK_TORSO,
                                    hidden_size=configs.TALK_SIZE)
# The game settings the default (MiniPacman) run leaves unset, for a Sokoban run: small rooms that a
# 2-core machine can learn (README.md); the paper's are 10 and 8 (launch/configs/sokoban_*.flags).
DEFAULT_SOKOBAN = {"agent.room_size": 7, "agent.pixels_per_cell": 2}


@dataclasses.dataclass(frozen=True)
class TrainConfig:
  """One training run (each setting's help is in its declaration below).

  Attributes:
    agent, env, learner: the agent, environment and optimisation configs. The game, task, room and
      sprite size are the agent's (`agent.geometry`, also `geometry` here); the environment is built
      for them, so they are stored once.
    logdir: TensorBoard summaries, `checkpoints/` and `resumes.jsonl` go here.
    num_actors, envs_per_actor: actors, and the environment copies each steps in one batch.
    batch_size: environment copies per learner batch; a multiple of `envs_per_actor`.
    unroll_length: T; unrolls hold T+1 steps and each brings T * envs_per_actor new frames.
    total_frames: stop once the learner has consumed this many environment frames.
    seed: seeds the agent, the environments and TensorFlow; None for non-deterministic. With
      asynchronous actors (the default) the seed fixes every actor's levels and action sampling, but
      not which weights each unroll is acted with (thread timing), so two runs differ; with
      `deterministic` the same seed gives bit-identical weights.
    deterministic: actors act in the learner's thread in a fixed order, and TensorFlow's op
      determinism is on (slower: acting and learning no longer overlap). Local backend only.
    backend: 'local' (actor threads) or 'ray' (Ray actors); ray_address: a cluster, None for local.
    ray_connect_timeout_secs: give up connecting to `ray_address` after this long.
    env_model_checkpoint: the pretrained environment model loaded before training ('learned' models).
    queue_size: unrolls buffered between actors and learner; None for 2 * num_actors.
    checkpoint_every_secs, checkpoint_every_frames: save when either is due (None: never on that clock).
    max_checkpoints: checkpoints kept.
    log_every_secs: progress line and summary period.
    publish_every: learner steps between weight publications to the actors.
    max_seconds: also stop (with a checkpoint) after this many seconds of training; None for no limit.
    actor_jit_compile: actors compile their policy step with XLA.
    inference: 'actor' (each actor runs the policy for its environments) or 'central' (environment
      workers only step environments; one server beside the learner, on its device, batches every
      worker's steps and runs the policy: i2a/training/central/, SEED RL).
    inference_batch_workers, inference_max_wait_secs: with central inference, a batch closes when it
      holds this many workers' requests (None: all of them) or this long after its first request.
  """
  agent: configs.AgentConfig = DEFAULT_AGENT
  env: environments.EnvConfig = environments.EnvConfig(num_boxes=1)
  learner: LearnerConfig = LearnerConfig()
  logdir: str = setting("runs/default", "The run's directory: summaries, checkpoints and config.json.",
                        scopes=(_RESUME, _EVALUATION))
  num_actors: int = setting(2, "Actors.", scopes=(_RESUME, _EVALUATION), at_least=1)
  envs_per_actor: int = setting(8, "Environment copies per actor (one batch).", scopes=(_EVALUATION,), at_least=1)
  batch_size: int = setting(8, "Environment copies per learner batch (a multiple of --envs_per_actor).", at_least=1)
  unroll_length: int = setting(10, "T: steps per unroll.", at_least=1)
  total_frames: int = setting(500_000, "Environment frames to train for.", scopes=(_RESUME, _EVALUATION), at_least=1)
  seed: Optional[int] = setting(
      0, "Seed; unset: non-deterministic. launch.train: the seed fixes the initial weights and every "
      "actor's levels, ghosts and action sampling, but by default the actors run asynchronously and act "
      "with whichever weights are newest, so two runs with one seed still differ; with --deterministic "
      "(synchronous acting and learning, slower) the same seed gives bit-identical weights. A resumed "
      "run draws new environment seeds from (seed, frames so far).", scopes=(_EVALUATION,), old_unset=(-1,))
  deterministic: bool = setting(
      False, "Act and learn in turn in one thread (slower), with TensorFlow's op determinism: the same "
      "--seed then gives bit-identical weights (see --seed). Local backend only.", scopes=(_RESUME,))
  backend: str = setting("local", "Actor transport.", choices=BACKENDS, scopes=(_RESUME, _EVALUATION))
  ray_address: Optional[str] = setting(None, "Ray cluster address; unset: a local cluster.",
                                       scopes=(_RESUME, _EVALUATION))
  ray_connect_timeout_secs: float = setting(60.0, "Give up connecting to --ray_address after this many "
                                            "seconds.", scopes=(_RESUME,), at_least=0)
  env_model_checkpoint: Optional[str] = setting(None, "The pretrained environment model ('learned').",
                                                scopes=(settings.IMAGINATION,))
  queue_size: Optional[int] = setting(None, "Unrolls buffered; unset: 2 per actor.", flag=_LIBRARY,
                                      scopes=(_RESUME,), above=0)
  checkpoint_every_secs: Optional[float] = setting(300.0, "Checkpoint period in seconds; unset: none.",
                                                   scopes=(_RESUME, _EVALUATION), old_unset=(0,), above=0)
  checkpoint_every_frames: Optional[int] = setting(None, "Checkpoint period in frames; unset: none.",
                                                   scopes=(_RESUME, _EVALUATION), old_unset=(0,), above=0)
  max_checkpoints: int = setting(3, "Checkpoints kept.", flag=_LIBRARY, scopes=(_RESUME,), at_least=1)
  log_every_secs: float = setting(10.0, "Progress line period in seconds.", scopes=(_RESUME, _EVALUATION), at_least=0)
  publish_every: int = setting(1, "Learner steps between weight publications.", flag=_LIBRARY, at_least=1)
  max_seconds: Optional[float] = setting(None, "Stop after this many seconds; unset: no limit.",
                                         flag=_LIBRARY, scopes=(_RESUME,), above=0)
  actor_jit_compile: bool = setting(False, "Compile the actors' policy step with XLA.", flag="actor_jit")
  inference: str = setting(
      "actor", "Where the policy runs: 'actor' (each actor, for its environments) or 'central' (SEED RL: "
      "actors only step environments; one server beside the learner, on its device, batches them all).",
      choices=INFERENCE, scopes=(_RESUME, _EVALUATION))
  inference_batch_workers: Optional[int] = setting(
      None, "Central inference: a batch closes when it holds this many workers' requests; unset: all.",
      scopes=(_RESUME,), above=0)
  inference_max_wait_secs: float = setting(
      0.002, "Central inference: ... or this many seconds after its first request.", scopes=(_RESUME,), above=0)

  def __post_init__(self):
    settings.check(self)  # Each setting's own choices and bounds, as declared.
    if self.batch_size % self.envs_per_actor:
      raise ValueError(f"batch_size={self.batch_size} must be a multiple of envs_per_actor="
                       f"{self.envs_per_actor} (a learner batch is made of whole actor unrolls).")
    if self.ray_address and self.backend != "ray":
      raise ValueError("ray_address is only used by backend='ray'.")
    if self.deterministic and (self.seed is None or self.backend != "local"):
      raise ValueError("deterministic=True needs a seed and backend='local'.")
    self.env.check(self.geometry)
    resolved = self.agent.resolved()
    if self.agent.uses_imagination and resolved.env_model == "learned" and not self.env_model_checkpoint:
      raise ValueError("env_model='learned' needs env_model_checkpoint: I2A's environment model is "
                       "pretrained and frozen (paper Sec. 3.2); train one first.")
    if self.env_model_checkpoint and not (self.agent.uses_imagination and resolved.env_model != "copy"):
      raise ValueError("env_model_checkpoint is set but this agent has no learned environment model "
                       f"(variant={self.agent.variant!r}, imag_path={resolved.imag_path!r}, "
                       f"env_model={resolved.env_model!r}).")

  @property
  def geometry(self) -> games.Geometry:
    """The game settings of the run: the agent's, which its environments are built with."""
    return self.agent.geometry


# Settings that do not change what is being learned (how long, how often, where, on how many actors):
# a resumed run may change them freely (`stored_config.check_resume`).
MAY_CHANGE_ON_RESUME = settings.paths_with_scope(TrainConfig, settings.RESUME)
# Settings that launch.evaluate, launch.collect and launch.imagine may set anew for a trained run.
EVALUATION_OVERRIDES = settings.paths_with_scope(TrainConfig, settings.EVALUATION)
