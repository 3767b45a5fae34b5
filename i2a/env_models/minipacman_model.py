"""The paper's MiniPacman environment model (paper App. B.2, Fig. 7).

    frame [B, 15, 19, 3] ++ tiled one-hot action [B, 15, 19, A]
      -> 1x1 conv 64 stem
      -> 2 basic blocks, (n1, n2, n3) = (16, 32, 64), each:
           pool-and-inject (global max-pool every map, broadcast back, concat)
           -> [1x1 n1 -> 9x9 n1] ++ [1x1 n2 -> 3x3 n2] -> 1x1 n3 -> merge with the block input
      -> frame: 1x1 conv -> frame logits [B, 15, 19, P or 3]
      -> events: 1x1 conv 64 -> 1x1 conv 64 -> flatten -> Linear(5) event logits [B, 5]

Events (paper Sec. 5), in this order: step, ate food, ate power pill, ate ghost, killed by ghost. They are
5 independent Bernoulli variables (sigmoid), not a 5-way softmax: 'step' fires on every step together
with any other event, so the events are not mutually exclusive. The imagined reward is r = w . p(events)
with task weights w (the paper's "instruction"), so one trained model serves all 5 tasks.

Merge (Fig. 7 reads both ways): 'add' (default) is a residual add, which keeps 64 channels
through every block (n3 must equal the stem's channels) and gives an identity path through the trunk;
'concat' appends the block output to its input (64 -> 128 -> 192 channels), as one third-party port did.
"""
import dataclasses
from typing import Optional, Sequence, Tuple

import numpy as np
import sonnet as snt
import tensorflow as tf

from envs.minipacman import tasks as minipacman_tasks
from i2a import layers
from i2a import types
from i2a.env_models import action_tiling
from i2a.env_models import frame_heads

EVENTS = minipacman_tasks.EVENT_NAMES  # The environment's one list of event names.
REGULAR_EVENT_WEIGHTS = tuple(float(w) for w in minipacman_tasks.task_weights("regular"))  # w_rew.
MERGES = ("add", "concat")
_LEAKY_SLOPE = 0.01  # Leaky ReLU slope 0.01 inside env models (paper App. B.2, as we recall it).


def _leaky(x: tf.Tensor) -> tf.Tensor:
  return tf.nn.leaky_relu(x, _LEAKY_SLOPE)


@dataclasses.dataclass(frozen=True)
class MiniPacmanModelConfig:
  """Sizes of `MiniPacmanEnvModel`; see its docstring."""
  num_actions: int = 5
  stem_channels: int = 64  # Fig. 7: 1x1 conv 64 stem.
  blocks: Tuple[Tuple[int, int, int], ...] = ((16, 32, 64), (16, 32, 64))  # Fig. 7: (n1, n2, n3).
  large_kernel: int = 9  # Fig. 7's large kernel; one port reads 9x9 SAME (paper Fig. 7).
  merge: str = "add"
  event_channels: int = 64  # Fig. 7: reward head 1x1 conv 64 -> 1x1 conv 64.

  def __post_init__(self):
    object.__setattr__(self, "blocks", tuple(tuple(int(n) for n in b) for b in self.blocks))
    for field in ("num_actions", "stem_channels", "large_kernel", "event_channels"):
      if getattr(self, field) < 1:
        raise ValueError(f"MiniPacmanModelConfig.{field} must be >= 1, got {getattr(self, field)}")
    if self.merge not in MERGES:
      raise ValueError(f"MiniPacmanModelConfig.merge must be one of {MERGES}, got {self.merge!r}")
    for block in self.blocks:
      if len(block) != 3 or min(block) < 1:
        raise ValueError(f"each block must be 3 positive sizes (n1, n2, n3), got {block}")
      if self.merge == "add" and block[2] != self.stem_channels:
        raise ValueError(f"merge='add' needs n3 == stem_channels={self.stem_channels}, got block {block}")


def _validate_event_weights(event_weights: Sequence[float]) -> np.ndarray:
  weights = np.asarray(event_weights, np.float32)
  if weights.shape != (len(EVENTS),) or not np.all(np.isfinite(weights)):
    raise ValueError(f"event_weights must be {len(EVENTS)} finite floats for {EVENTS}, got {event_weights}")
  return weights


class BasicBlock(snt.Module):
  """Fig. 7's basic block: pool-and-inject, two conv branches, 1x1 conv, merge with the input.

  Args:
    n1: channels of the large-kernel branch (1x1 then `large_kernel` x `large_kernel`).
    n2: channels of the 3x3 branch (1x1 then 3x3).
    n3: output channels of the closing 1x1 conv (with merge 'add', the input's channels).
    large_kernel: side of the large branch's kernel (paper Fig. 7: 9).
    merge: 'add' (residual) or 'concat' (see the module docstring).
    name: module name.
  """

  def __init__(self, n1: int, n2: int, n3: int, large_kernel: int = 9, merge: str = "add",
               name: Optional[str] = None):
    super().__init__(name=name)
    self._merge = merge
    self._large = [layers.Conv2D(n1, 1, name="large_1x1"), layers.Conv2D(n1, large_kernel, name="large_kxk")]
    self._small = [layers.Conv2D(n2, 1, name="small_1x1"), layers.Conv2D(n2, 3, name="small_3x3")]
    self._out = layers.Conv2D(n3, 1, name="out_1x1")

  def __call__(self, inputs: tf.Tensor) -> tf.Tensor:
    """float32 [B, H, W, C] -> [B, H, W, C] ('add', needs n3 == C) or [B, H, W, C + n3] ('concat')."""
    # Pool-and-inject (paper Fig. 7): every position sees each map's global maximum.
    pooled = tf.reduce_max(inputs, axis=[1, 2], keepdims=True)
    hidden = tf.concat([inputs, tf.broadcast_to(pooled, tf.shape(inputs))], axis=-1)
    large, small = hidden, hidden
    for conv in self._large:
      large = _leaky(conv(large))
    for conv in self._small:
      small = _leaky(conv(small))
    out = _leaky(self._out(tf.concat([large, small], axis=-1)))
    if self._merge == "add":
      return inputs + out
    return tf.concat([inputs, out], axis=-1)


class _Network(snt.Module):
  """The learned part of the model (everything but the event weights)."""

  def __init__(self, config: MiniPacmanModelConfig, frame_head: frame_heads.FrameHead, name: str):
    super().__init__(name=name)
    self._config = config
    self._stem = layers.Conv2D(config.stem_channels, 1, name="stem")
    self._blocks = [BasicBlock(*b, large_kernel=config.large_kernel, merge=config.merge, name=f"block_{i}")
                    for i, b in enumerate(config.blocks)]
    self._frame_out = layers.Conv2D(frame_head.num_channels, 1, name="frame_logits")
    self._event_convs = [layers.Conv2D(config.event_channels, 1, name=f"event_conv_{i}") for i in range(2)]
    self._event_out = layers.Linear(len(EVENTS), name="event_logits")

  def __call__(self, frame_stack: tf.Tensor, action: tf.Tensor) -> types.EnvModelLogits:
    frame_stack = layers.floating_input(frame_stack)
    if frame_stack.shape.rank != 4 or None in frame_stack.shape[1:3]:
      raise ValueError(f"MiniPacmanEnvModel needs frame_stack [B, H, W, 3 * S] with static H and W, "
                       f"got shape {frame_stack.shape}")
    inputs = action_tiling.action_conditioned_input(frame_stack, action, self._config.num_actions)
    hidden = _leaky(self._stem(inputs))
    for block in self._blocks:
      hidden = block(hidden)
    events = hidden
    for conv in self._event_convs:
      events = _leaky(conv(events))
    # The output layers run in float32 whatever the compute dtype: the frame's argmax and the event
    # probabilities must not be decided by bfloat16 rounding of the logits (i2a/layers.py).
    return types.EnvModelLogits(frame_logits=self._frame_out(tf.cast(hidden, tf.float32)),
                                reward_logits=self._event_out(tf.cast(snt.flatten(events), tf.float32)))


class MiniPacmanEnvModel(snt.Module):
  """Predicts the next MiniPacman frame and the 5 event probabilities from the last frame and an action.

  `logits` gives frame logits and 5 event logits for training; `__call__` gives the rollout output:
  the frame head's frame, `reward_bins` = the event probabilities sigmoid(event_logits) [B, 5], and
  `reward` = event_weights . p(events).

  Event weights are a plain NumPy attribute, not a variable, fixed for the life of the object (so a
  `tf.function` traced on it can never see stale weights, and checkpoints carry no task). To score another
  task, `with_event_weights(w)` returns a new model that shares this one's network and variables.
  """

  def __init__(self,
               num_actions: int = 5,
               event_weights: Sequence[float] = REGULAR_EVENT_WEIGHTS,
               frame_head: str = "palette",
               palette: Optional[frame_heads.PaletteLike] = None,
               stem_channels: int = 64,
               blocks: Sequence[Tuple[int, int, int]] = ((16, 32, 64), (16, 32, 64)),
               large_kernel: int = 9,
               merge: str = "add",
               event_channels: int = 64,
               name: str = "minipacman_env_model",
               _network: Optional[_Network] = None):
    """Builds the model (variables are created on the first call).

    Args:
      num_actions: size of the one-hot action code.
      event_weights: 5 floats, the reward of each event in `EVENTS` order (the task's w_rew).
      frame_head: 'palette' (default) or 'bernoulli'; see `frame_heads`.
      palette: uint8 or float [P, 3] colour palette; required for 'palette'.
      stem_channels: channels of the 1x1 stem conv.
      blocks: (n1, n2, n3) of each basic block.
      large_kernel: kernel size of the large-kernel branch (SAME padding).
      merge: 'add' (residual) or 'concat'; see the module docstring.
      event_channels: channels of the two 1x1 convs of the event head.
      name: module name.
      _network: private, used by `with_event_weights` to share the learned network.
    """
    super().__init__(name=name)
    self._config = MiniPacmanModelConfig(
        num_actions=num_actions, stem_channels=stem_channels, blocks=tuple(blocks),
        large_kernel=large_kernel, merge=merge, event_channels=event_channels)
    self._frame_head = frame_heads.as_frame_head(frame_head, palette)
    self._event_weights = _validate_event_weights(event_weights)
    if _network is None:
      _network = _Network(self._config, self._frame_head, name="network")
    self._network = _network

  @property
  def config(self) -> MiniPacmanModelConfig:
    return self._config

  @property
  def frame_head(self) -> frame_heads.FrameHead:
    return self._frame_head

  @property
  def event_weights(self) -> np.ndarray:
    """float32 [5], a copy of the weights of the events in `EVENTS` order."""
    return self._event_weights.copy()

  def with_event_weights(self, event_weights: Sequence[float]) -> "MiniPacmanEnvModel":
    """A model scoring events with `event_weights` that shares this model's network and variables."""
    c = self._config
    return MiniPacmanEnvModel(
        num_actions=c.num_actions, event_weights=event_weights, frame_head=self._frame_head,
        stem_channels=c.stem_channels, blocks=c.blocks, large_kernel=c.large_kernel, merge=c.merge,
        event_channels=c.event_channels, name=self.name, _network=self._network)

  def logits(self, frame_stack: tf.Tensor, action: tf.Tensor) -> types.EnvModelLogits:
    """Training logits.

    Args:
      frame_stack: float32 [B, H, W, 3 * S] in [0, 1] with static H, W; only the last 3 channels are used.
        A bfloat16 or float16 stack makes the hidden layers compute in that dtype (variables and logits
        stay float32; see `i2a.layers`).
      action: int32 [B].

    Returns:
      EnvModelLogits(frame_logits float32 [B, H, W, P or 3], reward_logits float32 [B, 5] event logits).
    """
    return self._network(frame_stack, action)

  def __call__(self, frame_stack: tf.Tensor, action: tf.Tensor) -> types.EnvModelOutput:
    """Rollout output (the talk's env-model signature).

    Returns:
      EnvModelOutput(frame float32 [B, H, W, 3] in [0, 1], reward float32 [B] = w . p(events),
      reward_bins float32 [B, 5] event probabilities).
    """
    logits = self.logits(frame_stack, action)
    probs = tf.sigmoid(logits.reward_logits)  # 5 independent Bernoulli events.
    reward = tf.reduce_sum(probs * tf.constant(self._event_weights), axis=-1)  # Paper Sec. 5: r = w . e.
    return types.EnvModelOutput(frame=self._frame_head.frame(logits.frame_logits), reward=reward,
                                reward_bins=probs)

  def predicted_terminal(self, output: types.EnvModelOutput) -> tf.Tensor:
    """bool [B]: the model gives Pacman's death, the event that ends an episode, probability > 1/2."""
    return output.reward_bins[:, EVENTS.index("killed_by_ghost")] > 0.5
