"""One factory for every paper variant of every game (paper Sec. 4-5; the talk's closing list of
swappable parts: ImagPath / NoImagPath, CopyModel / learned model, RolloutPolicy / RandomPolicy)."""
from typing import Optional

import sonnet as snt

from i2a import agent as agent_lib
from i2a import configs
from i2a import frame_processing
from i2a import games
from i2a import imag_path as imag_path_lib
from i2a import mc_agent
from i2a import policies
from i2a import rl_losses
from i2a import seeds
from i2a.env_models import copy_model
from i2a.env_models import small_model

TALK_REWARD_BINS = (-1.0, 0.0, 1.0)  # The talk's demo: SizePreservingConvNetModel's reward bins.


def build_env_model(config: configs.AgentConfig, spec: Optional[games.GameSpec] = None) -> snt.Module:
  """The environment model named by `config.env_model` (after `resolved()`), for `config.game`."""
  config = config.resolved()
  spec = spec or config.game_spec()
  if config.env_model == "copy":
    # The talk's notebook builds CopyModel(3), as many reward bins as its conv model's (-1, 0, 1).
    talk_bins = config.variant == "talk" and spec.reward_bins is None
    return copy_model.CopyModel(len(TALK_REWARD_BINS) if talk_bins else spec.num_reward_bins)
  if config.env_model == "conv":
    bins = spec.reward_bins if spec.reward_bins is not None else TALK_REWARD_BINS
    return small_model.SizePreservingConvNetModel(spec.num_actions, bins)
  if config.game == "sokoban":
    from i2a.env_models import sokoban_model  # pylint: disable=g-import-not-at-top
    return sokoban_model.SokobanEnvModel(
        num_actions=spec.num_actions, reward_bins=spec.reward_bins, frame_head=config.frame_head,
        palette=spec.palette, predict_reward=config.predict_reward, pixels_per_cell=config.pixels_per_cell,
        **sokoban_model.MODEL_SIZES[config.env_model_size])
  from i2a.env_models import minipacman_model  # pylint: disable=g-import-not-at-top
  return minipacman_model.MiniPacmanEnvModel(
      num_actions=spec.num_actions, event_weights=spec.event_weights, frame_head=config.frame_head,
      palette=spec.palette)


def build_rollout_policy(config: configs.AgentConfig, spec: games.GameSpec) -> snt.Module:
  """The imagination's policy for the steps after the first (paper Sec. 3.1): `config.rollout_policy`.

  Its sampler takes `seeds.rollout_policy_seed(config.seed)`, a stream independent of the agent's own
  action sampler (`config.seed`); i2a/seeds.py derives every stream of a run.
  """
  seed = seeds.rollout_policy_seed(config.seed)
  if config.rollout_policy == "random":
    return policies.RandomPolicy(spec.num_actions, seed=seed)
  return policies.RolloutPolicy(spec.num_actions, config.rollout_hidden_size, config.torso, seed=seed,
                                temperature=config.rollout_temperature)


def build_agent(config: configs.AgentConfig, spec: Optional[games.GameSpec] = None,
                env_model: Optional[snt.Module] = None, discount: float = rl_losses.DISCOUNT
                ) -> agent_lib.I2AAgent | mc_agent.MCAgent:
  """Builds the I2AAgent of `config` (an MCAgent for variant 'mc', with the same call contract).

  Args:
    config: the variant and its options.
    spec: the game's facts; defaults to `config.game_spec()`.
    env_model: an already built (e.g. restored) environment model to use instead of a new one.
    discount: gamma of the Monte Carlo agent's imagined returns (variant 'mc' only); the training
      system passes its learner's (`LearnerConfig.discount`).

  Returns:
    An I2AAgent. Model-free variants get a NoImagPath, so their network is the paper's standard agent:
    torso -> FC(hidden) -> policy and value heads. Variant 'talk' is the talk's notebook: FrameProcessing
    (hidden_size) as the model-free path and in the per-step feature, and no layer before the heads.
  """
  config = config.resolved()
  spec = spec or config.game_spec()
  # The talk ends every FrameProcessing in Linear + ReLU; the paper's CNNs inside I2A have no FC layer.
  talk = config.variant == "talk"
  feature_size = config.hidden_size if talk else None
  if config.variant == "mc":  # Paper Sec. 4.2: no encoder, no model-free path; V is the standard network's.
    return mc_agent.MCAgent(spec.num_actions, config.rollout_depth,
                            env_model or build_env_model(config, spec), build_rollout_policy(config, spec),
                            mc_agent.ValueNet(config.hidden_size, config.torso), spec.height, spec.width,
                            config.stack_size, discount=discount, seed=config.seed)
  model_free_path = frame_processing.FrameProcessing(feature_size, config.torso, name="model_free_path")
  if config.imag_path == "none":
    imag = imag_path_lib.NoImagPath()
  else:
    # The rollout encoder's per-step CNN is "another identically sized CNN" (paper App. B.1).
    feature = imag_path_lib.SingleImagFeature(feature_size, spec.num_actions, config.torso)
    imag = imag_path_lib.ImagPath(spec.num_actions, config.rollout_depth,
                                  env_model or build_env_model(config, spec),
                                  build_rollout_policy(config, spec), feature,
                                  lstm_size=config.lstm_size, encoder_direction=config.encoder_direction)
  # The talk's value_and_logits Linear reads the concatenation directly (talk, I2AAgent slide).
  return agent_lib.I2AAgent(spec.num_actions, model_free_path, imag, spec.height, spec.width,
                            config.stack_size, hidden_size=None if talk else config.hidden_size,
                            seed=config.seed, precision=config.precision)
