"""Test doubles: a tiny deterministic batched environment, and the one small agent every test builds.

`FakeBatchedEnv` has episodes of known, varying lengths and known rewards, and ends them both ways: with a
terminal LAST step (discount 0) and with a time-limit LAST step (discount 1), so tests can check the
actors' unrolls and episode bookkeeping against exact numbers.
"""
from typing import Optional

import dm_env
import numpy as np
import sonnet as snt

from envs import batched
import i2a

FIRST, MID, LAST = (int(t) for t in dm_env.StepType)
# FakeBatchedEnv's default frame and action count, for an agent that plays it: small_agent(**FAKE_ENV).
FAKE_ENV = dict(height=6, width=5, num_actions=3)


def episode_length(env_index: int, episode: int) -> int:
  """Steps (transitions) in episode `episode` of copy `env_index`: cycles through 2, 3, 4, 5."""
  return 2 + (env_index + episode) % 4


def is_terminal(env_index: int, episode: int) -> bool:
  """Whether that episode ends with discount 0 (else it is truncated by a time limit, discount 1)."""
  return (env_index + episode) % 2 == 0


def step_reward(env_index: int, episode: int, t: int) -> float:
  """The reward on arriving at step t >= 1 of an episode."""
  return float(t + 10 * env_index) + 0.5 * (episode % 3)


def episode_return(env_index: int, episode: int) -> float:
  return sum(step_reward(env_index, episode, t) for t in range(1, episode_length(env_index, episode) + 1))


class FakeBatchedEnv(batched.BatchedEnvironment):
  """N copies of a counting game with the `BatchedEnvironment` contract (auto-reset after LAST).

  Copy i's frame is uint8 [height, width, 3]: pixel (0, 0) holds (i, episode % 256, t), where t is the
  step within the episode (0 at FIRST), and every other pixel holds (t * 20 + i) % 256. Actions are
  recorded in `actions_received` (one int32 [N] array per `step` call).
  """

  def __init__(self, num_envs: int, height: int = FAKE_ENV["height"], width: int = FAKE_ENV["width"],
               num_actions: int = FAKE_ENV["num_actions"], offset: int = 0):
    """`offset` shifts the copies' indices, so two fakes (two actors) play different episodes."""
    if num_envs < 1:
      raise ValueError(f"num_envs must be >= 1, got {num_envs}")
    self._n, self._h, self._w, self._a = num_envs, height, width, num_actions
    self._ids = np.arange(num_envs) + offset
    self._episode = np.zeros(num_envs, np.int64)
    self._t = np.zeros(num_envs, np.int64)
    self._needs_reset = np.ones(num_envs, bool)
    self.actions_received: list[np.ndarray] = []
    self.num_steps = 0

  @property
  def num_envs(self) -> int:
    return self._n

  @property
  def num_actions(self) -> int:
    return self._a

  def _frames(self) -> np.ndarray:
    frames = ((self._t * 20 + self._ids) % 256).astype(np.uint8)[:, None, None, None]
    frames = np.broadcast_to(frames, (self._n, self._h, self._w, 3)).copy()
    frames[:, 0, 0] = np.stack([self._ids % 256, self._episode % 256, self._t % 256], axis=1)
    return frames

  def reset(self) -> batched.BatchedTimeStep:
    self._episode[:] = 0
    self._t[:] = 0
    self._needs_reset[:] = False
    n = self._n
    return batched.BatchedTimeStep(np.full(n, FIRST, np.int32), np.zeros(n, np.float32),
                                   np.ones(n, np.float32), {"rgb": self._frames()})

  def step(self, actions: np.ndarray) -> batched.BatchedTimeStep:
    actions = np.asarray(actions)
    if actions.shape != (self._n,) or actions.min() < 0 or actions.max() >= self._a:
      raise ValueError(f"FakeBatchedEnv: bad actions {actions!r}")
    self.actions_received.append(actions.astype(np.int32))
    self.num_steps += 1
    step_type = np.full(self._n, MID, np.int32)
    reward = np.zeros(self._n, np.float32)
    discount = np.ones(self._n, np.float32)
    for i in range(self._n):
      idx, ep = int(self._ids[i]), int(self._episode[i])
      if self._needs_reset[i]:
        self._episode[i] += 1
        self._t[i] = 0
        self._needs_reset[i] = False
        step_type[i] = FIRST
        continue
      self._t[i] += 1
      reward[i] = step_reward(idx, ep, int(self._t[i]))
      if self._t[i] == episode_length(idx, ep):
        step_type[i] = LAST
        discount[i] = 0.0 if is_terminal(idx, ep) else 1.0
        self._needs_reset[i] = True
    return batched.BatchedTimeStep(step_type, reward, discount, {"rgb": self._frames()})


# The small agent's defaults: MiniPacman-sized frames (15x19, 5 actions), a frame stack of 2, narrow widths.
H, W, A, S = 15, 19, 5, 2
SMALL_TORSO = i2a.TorsoConfig(channels=(4, 4), kernel_shapes=(3, 3), strides=(1, 2))
SMALL_OPTIONS = dict(rollout_depth=3, stack_size=S, torso=SMALL_TORSO, hidden_size=16, lstm_size=8,
                     rollout_hidden_size=8)


def small_spec(height: int = H, width: int = W, num_actions: int = A) -> i2a.GameSpec:
  """A MiniPacman-like GameSpec of any frame size: 7 palette colours, the 'regular' task's event weights."""
  palette = np.array([[0, 0, 0], [255, 255, 255], [0, 0, 255], [0, 255, 255], [0, 255, 0], [255, 0, 0],
                      [255, 255, 0]], np.uint8)
  return i2a.GameSpec("minipacman", height, width, num_actions, palette, event_weights=(0.0, 1.0, 2.0, 5.0, 0.0))


def small_agent(variant: str = "standard", *, height: int = H, width: int = W, num_actions: int = A,
                seed: Optional[int] = 7, built_env_model: Optional[snt.Module] = None,
                **options) -> i2a.I2AAgent:
  """The tests' one small agent: `i2a.build_agent` of a narrow AgentConfig on `small_spec`.

  Args:
    variant: the AgentConfig variant; 'i2a' and 'mc' default to the talk's small 'conv' environment model,
      so no environment package or trained model is needed.
    height, width, num_actions: the frames and actions it plays (FAKE_ENV for FakeBatchedEnv).
    seed: seeds the agent's action sampling (initial weights come from TF's global generator).
    built_env_model: an already built environment model (e.g. one with a palette head) to use.
    **options: any other AgentConfig field, overriding SMALL_OPTIONS (rollout depth 3, stack 2,
      SMALL_TORSO, hidden 16, LSTM 8, rollout policy hidden 8) and the precision (None: the config's rule).
  """
  if variant in ("i2a", "mc") and built_env_model is None:
    options.setdefault("env_model", "conv")
  config = i2a.AgentConfig(variant=variant, seed=seed, **dict(SMALL_OPTIONS, **options))
  return i2a.build_agent(config, small_spec(height, width, num_actions), env_model=built_env_model)
