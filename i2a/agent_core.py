"""The call contract both agents share: an `snt.RNNCore` whose `step` also returns what it imagined.

`I2AAgent` (the talk's agent) and `MCAgent` (the paper's rollout-encoder-free ablation, Sec. 4.2) both
act with `agent(frame, state)` and let the actors and the learner reuse imagined rollouts through
`agent.step(frame, state, imagination)`; `__call__` is `step` without its third output.
"""
import abc
from typing import Optional

import sonnet as snt
import tensorflow as tf

from i2a import imagination as imagination_lib
from i2a import types


class ImaginingCore(snt.RNNCore, abc.ABC):
  """An agent core: `step` runs one step and returns `(AgentOutput, next_state, Imagination or None)`."""

  @abc.abstractmethod
  def step(self, frame: tf.Tensor, prev_state: tf.Tensor,
           imagination: Optional[imagination_lib.Imagination] = None
           ) -> tuple[types.AgentOutput, tf.Tensor, Optional[imagination_lib.Imagination]]:
    """One agent step; `imagination` (from an earlier `step` on the same state) is reused, not redone."""

  def __call__(self, frame: tf.Tensor, prev_state: tf.Tensor,
               imagination: Optional[imagination_lib.Imagination] = None
               ) -> tuple[types.AgentOutput, tf.Tensor]:
    """One agent step: `step` without the imagination it returns."""
    output, next_state, _ = self.step(frame, prev_state, imagination)
    return output, next_state
