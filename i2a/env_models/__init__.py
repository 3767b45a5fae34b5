"""Environment models: `model(frame_stack, action) -> EnvModelOutput(frame, reward, reward_bins)`.

The talk's CopyModel and SizePreservingConvNetModel, and the paper's full-size Sokoban and MiniPacman
models with their frame heads and training losses.
"""
from i2a.env_models.copy_model import CopyModel
from i2a.env_models.frame_heads import FrameHead
from i2a.env_models.frame_heads import palette_indices
from i2a.env_models.minipacman_model import MiniPacmanEnvModel
from i2a.env_models.model_losses import env_model_loss
from i2a.env_models.model_losses import frame_error_rate
from i2a.env_models.small_model import SizePreservingConvNetModel
from i2a.env_models.sokoban_model import SokobanEnvModel
