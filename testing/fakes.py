"""Test doubles for the training system: a tiny deterministic batched environment and small agents.

`FakeBatchedEnv` has episodes of known, varying lengths and known rewards, and ends them both ways: with a
terminal LAST step (discount 0) and with a time-limit LAST step (discount 1), so tests can check the
actors' unrolls and episode bookkeeping against exact numbers.
"""
from typing import Optional

import dm_env
import numpy as np

from envs import batched
from i2a import agent as agent_lib
from i2a import frame_processing
from i2a import imag_path

FIRST, MID, LAST = (int(t) for t in dm_env.StepType)


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

  def __init__(self, num_envs: int, height: int = 6, width: int = 5, num_actions: int = 3,
               offset: int = 0):
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


def tiny_agent(num_actions: int = 3, height: int = 6, width: int = 5, stack_size: int = 2,
               seed: Optional[int] = 0) -> agent_lib.I2AAgent:
  """A model-free I2AAgent small enough for fast tests (one 4-channel conv, hidden 8)."""
  torso = frame_processing.TorsoConfig(channels=(4,), kernel_shapes=(3,), strides=(2,))
  return agent_lib.I2AAgent(num_actions, frame_processing.FrameProcessing(None, torso),
                            imag_path.NoImagPath(), height, width, stack_size, hidden_size=8, seed=seed)
