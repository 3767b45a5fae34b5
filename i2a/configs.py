"""Typed configuration of every paper variant (paper Sec. 4-5, App. B.1).

`AgentConfig` names a variant and its options; `resolved()` fills the per-game paper defaults. The
recalled layer sizes are defaults, not dogma: every width is a field (WORKSPACE.md, deviation 12, on a parameter-count
doubt), so a user can match the paper's Appendix B.1 once it is verified.
"""
import dataclasses
from typing import Optional

from i2a import games
from i2a import hardware
from i2a import settings
from i2a.frame_processing import TALK_TORSO
from i2a.frame_processing import TorsoConfig
from i2a.imag_path import ENCODER_DIRECTIONS  # Paper Sec. 3.2, footnote 1; declared once, by ImagPath.
from i2a.layers import PRECISIONS  # Declared once, by the layers that compute in them.
from i2a.settings import setting

VARIANTS = ("standard", "large", "copy", "i2a", "talk", "mc")
IMAG_PATHS = ("imag", "none")
ENV_MODELS = ("copy", "conv", "learned")
ROLLOUT_POLICIES = ("distilled", "random")
FRAME_HEADS = ("palette", "bernoulli")
# Paper Fig. 5: the poor model is Sokoban's; 'small' is the good one sized for small grids (WORKSPACE.md,
# deviation 45). Every size but 'good' is a Sokoban 'learned' model (i2a/env_models/sokoban_model.py).
ENV_MODEL_SIZES = ("good", "poor", "small")
_SIZE_NAMES = {"poor": "the paper's weak Sokoban model (Fig. 5)",
               "small": "the Sokoban model sized for small grids (WORKSPACE.md, deviation 45)"}

# Paper-size networks per game (paper App. B.1; MiniPacman's sizes match two public ports).
# Sokoban: the 8/4/3 torso is the DQN-style Atari torso, which is VALID-padded (6x6x64 output at 80x80).
# MiniPacman: the talk's torso, SAME-padded as Sonnet's default (8x10x16 output at 15x19).
PAPER_TORSO = {
    "sokoban": TorsoConfig(channels=(32, 64, 64), kernel_shapes=(8, 4, 3), strides=(4, 2, 1), padding="VALID"),
    "minipacman": TorsoConfig(channels=(16, 16), kernel_shapes=(3, 3), strides=(1, 2), padding="SAME"),
}
PAPER_HIDDEN = {"sokoban": 512, "minipacman": 256}
PAPER_LSTM = {"sokoban": 512, "minipacman": 256}
# The talk's notebook: FrameProcessing(128) everywhere, RolloutPolicy(5, 128), LSTM(256).
TALK_SIZE = 128
TALK_LSTM = 256


MODEL_FREE_VARIANTS = ("standard", "large")


def imag_path_of(variant: str, imag_path: Optional[str] = None) -> str:
  """The imagination path an agent has: `imag_path` if given, else the variant's own ('none' for the
  model-free baselines of paper Sec. 4.1, 'imag' for I2A and copy-model I2A). The one place that
  decides whether an agent imagines."""
  return imag_path or ("none" if variant in MODEL_FREE_VARIANTS else "imag")


@dataclasses.dataclass(frozen=True)
class AgentConfig:
  """One agent of the paper, or an ablation of it.

  Attributes:
    game: 'sokoban' or 'minipacman'.
    task: MiniPacman task (sets the event weights that turn predicted events into rewards).
    variant: 'standard' (model-free), 'large' (every width doubled), 'copy' (I2A with CopyModel), 'i2a',
      'mc' (the rollout-encoder-free Monte Carlo agent of paper Sec. 4.2, `i2a.mc_agent`), or 'talk':
      the talk's notebook architecture (see `talk_config` for its demo agent), where every
      FrameProcessing ends in Linear(hidden_size) + ReLU (model-free path and per-step imagination
      feature alike) and the value/logits Linear reads the concatenation directly (no hidden layer);
      defaults: the talk's torso, hidden_size 128, lstm_size 256, env_model 'copy'.
    imag_path: 'imag' or 'none'; None picks the variant's own ('none' for standard and large).
    env_model: 'copy', 'conv' (the talk's small model) or 'learned' (the paper's full-size model);
      None picks the variant's own ('copy' for copy, 'learned' for i2a).
    rollout_policy: 'distilled' (paper Sec. 3.1) or 'random'.
    rollout_depth: imagined steps per rollout (paper: 1, 3, 5, 15 on Sokoban; 5 canonical).
    rollout_temperature: T > 0; the distilled rollout policy samples from softmax(logits / T) (1: itself).
    encoder_direction: the order the rollout encoder reads the imagined steps: 'backward' (default,
      the talk's and paper's), 'forward' or 'bidirectional' (paper Sec. 3.2, footnote 1).
    env_model_size: 'good' (the paper's Sokoban model), 'poor' (the deliberately weak one of paper
      Fig. 5, far fewer parameters) or 'small' (the good one with 32 channels, for the study's 6x6
      grid); all but 'good' are Sokoban 'learned' models only.
    stack_size: frames in the agent's state; the paper's agents see one frame (paper Sec. 3.1), the talk four.
    predict_reward: False gives the paper's frames-only environment model (Sokoban only).
    frame_head: 'palette' (categorical over the game's colours; our default) or 'bernoulli' (the paper's).
    room_size, pixels_per_cell: Sokoban room size in cells and sprite size in pixels.
    (game, task, room_size and pixels_per_cell are the agent's `geometry`, `games.Geometry`: validated
    there, None where they do not apply to the game, and the one record of the game settings: a
    training run builds its environments for them.)
    torso, hidden_size, lstm_size, rollout_hidden_size: network widths; None picks the paper default
      (the talk's for variant 'talk').
    precision: the dtype the networks compute in: 'bfloat16' (matmuls and convolutions about 4x faster
      than float32 on CPUs with AMX / avx512_bf16, and as accurate for acting, learning and imagining;
      see i2a/layers.py), 'float32', or 'float16' (GPUs); None picks bfloat16 for agents that imagine on
      hardware with bfloat16 arithmetic (`hardware.default_precision`) and float32 otherwise, for the
      model-free agents and for the talk's demo. Variables, heads, losses and V-trace stay float32.
    seed: seeds the modules' action sampling; None for non-deterministic. Initial weights come from
      TF's global generator: call tf.random.set_seed before the first call, as the training loop does.
  """
  game: str = setting("minipacman", "Game.", choices=games.GAMES, scopes=(settings.GAME,))
  task: Optional[str] = setting("regular", "MiniPacman task.", choices=games.MINIPACMAN_TASKS,
                                scopes=(settings.GAME, settings.MINIPACMAN))
  variant: str = setting("i2a", "Agent variant (paper Sec. 4-5).", flag="agent", choices=VARIANTS)
  imag_path: Optional[str] = setting(None, "Imagination path; unset: the variant's.", choices=IMAG_PATHS)
  env_model: Optional[str] = setting(None, "Environment model; unset: the variant's.", choices=ENV_MODELS,
                                     scopes=(settings.IMAGINATION,))
  rollout_policy: str = setting("distilled", "Rollout policy of the imagination path (paper Sec. 3.1).",
                                choices=ROLLOUT_POLICIES, scopes=(settings.IMAGINATION,))
  rollout_depth: int = setting(5, "Imagined steps per rollout (paper: 1-15).", scopes=(settings.IMAGINATION,), at_least=1)
  rollout_temperature: float = setting(
      1.0, "Temperature T > 0 of the distilled rollout policy's sampling: imagined actions are drawn from "
      "softmax(logits / T) (1: the policy itself; the paper's).", scopes=(settings.IMAGINATION,), above=0)
  encoder_direction: str = setting(
      "backward", "The order I2A's rollout encoder reads the imagined steps (paper Sec. 3.2, footnote 1): "
      "backward (last step first), forward, or bidirectional (two LSTMs, outputs concatenated).",
      choices=ENCODER_DIRECTIONS, scopes=(settings.IMAGINATION,))
  env_model_size: str = setting(
      "good", "Sokoban environment model: 'good', 'poor' (paper Fig. 5: same family, far fewer "
      "parameters) or 'small' (32 channels, for small grids such as the study's 6x6 rooms).",
      choices=ENV_MODEL_SIZES, scopes=(settings.IMAGINATION,))
  stack_size: int = setting(1, "Frames in the agent state.", at_least=1)
  predict_reward: bool = setting(True, "False: frames-only environment model (Sokoban).",
                                 scopes=(settings.SOKOBAN,))
  frame_head: str = setting("palette", "Frame head of the environment model.", choices=FRAME_HEADS,
                            flag=settings.NO_FLAG)
  room_size: Optional[int] = setting(10, "Sokoban room side in cells, walls included (paper: 10).",
                                     scopes=(settings.GAME, settings.SOKOBAN))
  pixels_per_cell: Optional[int] = setting(8, "Sokoban sprite size in pixels (paper: 8).",
                                           scopes=(settings.GAME, settings.SOKOBAN))
  torso: Optional[TorsoConfig] = setting(
      None, "Conv torso 'channels:kernel:stride,...' (SAME padding); unset: the paper's per-game torso.",
      parse=TorsoConfig.parse, old_unset=("paper",))
  hidden_size: Optional[int] = setting(None, "Policy FC width; unset: the paper's (512/256).", old_unset=(0,), at_least=1)
  lstm_size: Optional[int] = setting(None, "Rollout encoder LSTM width; unset: the variant's (paper: "
                                     "512/256, talk: 256).", scopes=(settings.IMAGINATION,), old_unset=(0,), at_least=1)
  rollout_hidden_size: Optional[int] = setting(
      None, "Width of the distilled rollout policy's FC layer (the Linear ending RolloutPolicy's "
      "FrameProcessing, i2a/policies.py; not the per-step imagination feature, which has none in the "
      "paper's agents); unset: the paper's (512/256), hidden_size for variant 'talk'.",
      scopes=(settings.IMAGINATION,), old_unset=(0,), at_least=1)
  precision: Optional[str] = setting(
      None, "Compute dtype of the networks (variables, heads and losses stay float32); unset: bfloat16 "
      "for agents that imagine on a GPU or a CPU with AMX / AVX-512 BF16, float32 otherwise.",
      choices=PRECISIONS)
  seed: Optional[int] = setting(None, "Seeds the modules' action sampling (a run sets it from its seed).",
                                flag=settings.NO_FLAG)

  def __post_init__(self):
    # Validated by games.Geometry, whose normal form is kept: settings that do not apply to the game
    # are None (a MiniPacman agent has no room size, a Sokoban agent no task).
    for name, value in self.geometry.fields(keep_none=True).items():
      object.__setattr__(self, name, value)
    settings.check(self)  # Each setting's own choices and bounds, as declared.
    if self.variant == "mc" and self.encoder_direction != "backward":
      raise ValueError("Variant 'mc' has no rollout encoder (paper Sec. 4.2); encoder_direction is I2A's.")
    if self.env_model_size != "good" and (self.game != "sokoban" or self.env_model not in (None, "learned")
                                          or self.variant in ("copy", "talk", *MODEL_FREE_VARIANTS)
                                          or self.imag_path == "none"):
      raise ValueError(f"env_model_size={self.env_model_size!r} is {_SIZE_NAMES[self.env_model_size]}: "
                       "it needs game 'sokoban' and the learned environment model.")
    if self.variant == "mc" and self.imag_path == "none":
      raise ValueError("Variant 'mc' is all imagination (paper Sec. 4.2); it needs imag_path 'imag'.")
    if self.variant in MODEL_FREE_VARIANTS and self.imag_path == "imag":
      raise ValueError(f"Variant {self.variant!r} is model-free: it has no imagination path "
                       "(use variant 'i2a' or 'copy').")
    if self.variant == "copy" and self.env_model not in (None, "copy"):
      raise ValueError(f"Variant 'copy' uses the copy model by definition; got env_model={self.env_model!r}.")
    if not self.predict_reward and self.game != "sokoban":
      raise ValueError("The frames-only environment model (predict_reward=False) is the paper's Sokoban "
                       "ablation; MiniPacman's model predicts events, which define the task's reward.")

  @property
  def geometry(self) -> games.Geometry:
    """The game settings this agent's networks are built for (its environment must have the same)."""
    return games.Geometry(self.game, self.task, self.room_size, self.pixels_per_cell)

  @property
  def uses_imagination(self) -> bool:
    return self.resolved().imag_path == "imag"

  def resolved(self) -> "AgentConfig":
    """This config with every None replaced by the variant's and game's paper default."""
    if self.variant == "talk":
      hidden = self.hidden_size or TALK_SIZE
      return dataclasses.replace(
          self, torso=self.torso or TALK_TORSO, hidden_size=hidden, imag_path=self.imag_path or "imag",
          env_model=self.env_model or "copy", lstm_size=self.lstm_size or TALK_LSTM,
          rollout_hidden_size=self.rollout_hidden_size or hidden,
          precision=self.precision or "float32")  # The notebook's float32.
    # "Every conv's channels and hidden units x2" (paper Sec. 4.1): the large agent doubles the standard
    # agent's widths, whether those are the paper's or given (a scaled-down study's torso and FC).
    factor = 2 if self.variant == "large" else 1
    torso = (self.torso or PAPER_TORSO[self.game]).widened(factor)
    hidden = (self.hidden_size or PAPER_HIDDEN[self.game]) * factor
    imag_path = imag_path_of(self.variant, self.imag_path)
    env_model = self.env_model or ("copy" if self.variant == "copy" else "learned")
    return dataclasses.replace(
        self, torso=torso, hidden_size=hidden, imag_path=imag_path, env_model=env_model,
        lstm_size=self.lstm_size or PAPER_LSTM[self.game],
        rollout_hidden_size=self.rollout_hidden_size or PAPER_HIDDEN[self.game],
        # bfloat16 pays where the environment model runs, on hardware with bfloat16 arithmetic; the small
        # model-free networks were faster in float32 (WORKSPACE.md, deviation 22).
        precision=self.precision or hardware.default_precision(imagines=imag_path == "imag"))

  def with_resolved_precision(self) -> "AgentConfig":
    """This config with `precision` decided: the given one, else this machine's default.

    A training run resolves it once, before it builds its actors and stores its config: Ray actors see
    neither the learner's GPU nor its CPU's AMX, and would otherwise pick another precision than the
    learner (behaviour and target policies then differ with no policy lag), and an evaluation or a
    resume on other hardware would silently change it.
    """
    if self.precision is not None:
      return self
    return dataclasses.replace(self, precision=self.resolved().precision)

  def game_spec(self) -> games.GameSpec:
    return self.geometry.spec()


def talk_config(env_model: str = "copy", seed: Optional[int] = None) -> AgentConfig:
  """The talk notebook's demo agent on MiniPacman 'regular' ("putting it all together").

  Frame stack 4, rollout depth 3, CopyModel(3) (env_model 'copy') or SizePreservingConvNetModel with
  reward bins (-1, 0, 1) ('conv'), FrameProcessing(128) as the model-free path, SingleImagFeature(128),
  RolloutPolicy(5, 128), LSTM(256), and Linear(1 + 5) straight off the concatenation. 910,987 trainable
  parameters (`I2AAgent.trainable_variables`: all but the environment model's, so the same for every
  model; the conv model adds 5,982 frozen ones).

  'learned' keeps all of that but imagines with the paper's MiniPacman model (Fig. 7, event head) in
  place of the talk's: the notebook's agent with a trained model, which the caller loads frozen from
  a checkpoint (`launch.talk_demo --env_model_checkpoint`). That model reads only the newest frame of
  the 4-frame stack, as it was trained (paper Sec. 3.1), so the stack changes nothing for it.

  Args:
    env_model: 'copy', 'conv' (the talk's models) or 'learned' (the paper's MiniPacman model).
    seed: seeds the agent's and the rollout policy's action sampling.
  """
  if env_model not in ("copy", "conv", "learned"):
    raise ValueError(f"talk_config: env_model must be 'copy' or 'conv' (the talk's models) or 'learned' "
                     f"(the paper's MiniPacman model), got {env_model!r}.")
  return AgentConfig(game="minipacman", task="regular", variant="talk", env_model=env_model, rollout_depth=3,
                     stack_size=4, seed=seed)
