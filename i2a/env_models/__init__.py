"""Environment models: `model(frame_stack, action) -> EnvModelOutput(frame, reward, reward_bins)`."""
from i2a.env_models.copy_model import CopyModel
from i2a.env_models.small_model import SizePreservingConvNetModel
