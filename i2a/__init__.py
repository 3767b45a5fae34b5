"""i2a: Imagination-Augmented Agents (Weber et al., NeurIPS 2017) in TensorFlow 2 + Sonnet 2.

The public API mirrors the talk that builds I2A "block by block" with Sonnet; see WORKSPACE.md.
"""
from i2a.agent import I2AAgent
from i2a.configs import AgentConfig
from i2a.configs import talk_config
from i2a.distillation import distillation_loss
from i2a.env_models.copy_model import CopyModel
from i2a.env_models.small_model import SizePreservingConvNetModel
from i2a.factory import build_agent
from i2a.factory import build_env_model
from i2a.frame_processing import FrameProcessing
from i2a.frame_processing import TorsoConfig
from i2a.frame_stack import update_frame_stack
from i2a.games import GameSpec
from i2a.games import Geometry
from i2a.games import game_spec
from i2a.imag_path import ImagPath
from i2a.imag_path import NoImagPath
from i2a.imag_path import SingleImagFeature
from i2a.mc_agent import MCAgent
from i2a.optimizers import RMSPropTF1
from i2a.policies import RandomPolicy
from i2a.policies import RolloutPolicy
from i2a.types import AgentOutput
from i2a.types import EnvModelLogits
from i2a.types import EnvModelOutput
from i2a.types import LossOutput
from i2a.types import Trajectory

# The training system's public names, kept in the flat API but imported on first use, so that importing
# the talk's modules never imports the training system (arrows point one way: modules <- training).
_TRAINING_NAMES = {
    "CheckpointError": "i2a.training.checkpointing",
    "Checkpointer": "i2a.training.checkpointing",
    "Learner": "i2a.training.learner",
    "LearnerConfig": "i2a.training.learner",
}


def __getattr__(name: str):
  if name in _TRAINING_NAMES:
    import importlib  # pylint: disable=g-import-not-at-top
    return getattr(importlib.import_module(_TRAINING_NAMES[name]), name)
  raise AttributeError(f"module 'i2a' has no attribute {name!r}")
