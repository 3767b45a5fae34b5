"""`LearnerConfig`: the optimisation hyper-parameters of the learner (i2a/training/learner.py).

The paper's values are not recovered (paper App. A; WORKSPACE.md): the defaults are those of the small
default run of README.md (`TrainConfig()`, `python -m launch.train`); the paper's experiments set theirs
in launch/configs/.
"""
import dataclasses
from typing import Optional

from i2a import optimizers
from i2a import rl_losses
from i2a import settings
from i2a.settings import setting

_LIBRARY = settings.NO_FLAG


@dataclasses.dataclass(frozen=True)
class LearnerConfig:
  """Optimisation hyper-parameters (each field's help is in its declaration below).

  Attributes:
    learning_rate: RMSprop step size (IMPALA's order of magnitude; the paper searched it).
    rmsprop_decay, rmsprop_momentum: RMSprop's decay (0.99) and momentum (0), IMPALA's values.
    rmsprop_epsilon: 0.1, the talk's distillation slide (RMSPropOptimizer(epsilon=0.1)).
    optimizer: 'rmsprop_tf1' (TF1's RMSPropOptimizer, whose mean square starts at 1: the optimizer of the
      talk and of IMPALA) or 'rmsprop_snt' (Sonnet 2's RMSProp, mean square starting at 0); see
      `i2a.optimizers`.
    discount, baseline_cost: gamma 0.99 and the weight 0.5 of 0.5 * sum (vs - V)^2 (public ports' values; WORKSPACE.md).
    entropy_cost: weight of the entropy bonus; 0.01 (paper App. A, as we recall it).
    distillation_cost: lambda_dist, searched per agent in the paper; 1.0 is our neutral default
      (third-party runs used 10 and 0.3).
    clip_rho_threshold, clip_pg_rho_threshold: V-trace's rho-bar; 1.0 as IMPALA; None disables.
    max_grad_norm: global-norm gradient clipping threshold (searched in the paper); None for none.
    reward_clipping: 'none' (default: Sokoban's +10 and MiniPacman's ghost rewards carry the task, and
      the env model predicts raw rewards), 'abs_one' or 'soft_asymmetric' (IMPALA's).
    jit_compile: compile the whole training step with XLA.
    mixed_precision: Sonnet's mixed precision, refused (see `device.check_mixed_precision`); the compute
      precision is `AgentConfig.precision` (i2a/layers.py).
    device: None for automatic (GPU when TensorFlow sees one), or e.g. '/CPU:0', '/GPU:0'.
    reuse_imagination: re-encode the rollouts the actors imagined (`Trajectory.imagination`) instead of
      running the frozen environment model again; the loss and gradients are the same as recomputing
      the same rollouts (i2a/imagined.py). Trajectories without imagination are recomputed.
    float16_loss_scale: when the agent computes in float16, the initial loss scale: the loss is
      multiplied by it before differentiation and the gradients divided by it (keeps small float16
      gradients from underflowing). The scale is dynamic: a step whose gradients overflow is skipped
      and halves it, and `float16_loss_scale_period` finite steps in a row double it.
    float16_loss_scale_period: finite float16 steps after which the loss scale doubles.
  """
  learning_rate: float = setting(1e-3, "Learning rate.", above=0)
  rmsprop_decay: float = setting(0.99, "RMSprop decay.", flag=_LIBRARY, at_least=0, at_most=1)
  rmsprop_momentum: float = setting(0.0, "RMSprop momentum.", flag=_LIBRARY, at_least=0)
  rmsprop_epsilon: float = setting(0.1, "RMSprop epsilon (the talk's 0.1).", flag=_LIBRARY, above=0)
  optimizer: str = setting("rmsprop_tf1", "rmsprop_tf1: TF1's RMSPropOptimizer (mean square starts at 1; "
                           "the talk's and IMPALA's); rmsprop_snt: Sonnet 2's RMSProp (mean square starts "
                           "at 0).", choices=optimizers.OPTIMIZERS)
  discount: float = setting(rl_losses.DISCOUNT, "gamma.", at_least=0, at_most=1)
  baseline_cost: float = setting(0.5, "Value loss weight.", at_least=0)
  entropy_cost: float = setting(0.01, "Entropy bonus weight (paper App. A: 0.01).", at_least=0)
  distillation_cost: float = setting(1.0, "lambda_dist (paper Sec. 3.1).", scopes=(settings.IMAGINATION,), at_least=0)
  clip_rho_threshold: Optional[float] = setting(1.0, "V-trace's rho-bar.", flag=_LIBRARY, above=0)
  clip_pg_rho_threshold: Optional[float] = setting(1.0, "V-trace's policy-gradient rho-bar.", flag=_LIBRARY, above=0)
  max_grad_norm: Optional[float] = setting(40.0, "Global gradient-norm clip; unset: none.", old_unset=(0,), above=0)
  reward_clipping: str = setting("none", "Reward clipping in the V-trace targets.",
                                 choices=rl_losses.REWARD_CLIPPING)
  jit_compile: bool = setting(False, "Compile the training step with XLA.", flag=_LIBRARY,
                              scopes=(settings.RESUME,))
  mixed_precision: bool = setting(False, "Sonnet's mixed precision (refused).", flag=_LIBRARY)
  device: Optional[str] = setting(None, "The learner's device; unset: automatic.", flag=_LIBRARY,
                                  scopes=(settings.RESUME,))
  reuse_imagination: bool = setting(True, "The learner re-encodes the actors' imagined rollouts instead "
                                    "of running the environment model again.", scopes=(settings.IMAGINATION,))
  float16_loss_scale: float = setting(1024.0, "float16's initial loss scale.", flag=_LIBRARY, above=0)
  float16_loss_scale_period: int = setting(2000, "Finite float16 steps that double the loss scale.",
                                           flag=_LIBRARY, at_least=1)

  def __post_init__(self):
    settings.check(self)  # Each setting's own choices and bounds, as declared.
