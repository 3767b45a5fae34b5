"""Acting without learning: the batched policy step and restoring a trained agent from a checkpoint.

One policy step serves the actors, evaluation, data collection and the imagination pictures, so the
four act identically: at FIRST steps the state is reset before the agent sees the frame, and uint8
frames enter the networks as float32 in [0, 1]. `restore_agent` loads a `launch.train` checkpoint into
a freshly built agent without building a Learner (no optimizer slots).
"""
import dataclasses
import os
from typing import NamedTuple, Optional

from absl import logging
import dm_env
import numpy as np
import tensorflow as tf

from envs import batched
from i2a import agent_core
from i2a import agent_interface
from i2a import configs
from i2a import factory
from i2a import imagined as imagination_lib
from i2a import rl_losses
from i2a import types
from i2a.training import checkpointing


class PolicyStep:
  """The agent's batched policy step: one tf.function call for all N environment copies.

  Usage:
    step = PolicyStep(agent)
    state = step.initial_state(env.num_envs)
    output, state = step(timestep, state)  # AgentOutput of NumPy arrays, next state.

  With `ship_imagination`, `step_and_imagination` also returns what the agent imagined, compacted to
  palette indices (i2a/imagined.py) for the learner to re-encode; agents whose imagined frames are
  not palette colours (copy model, Bernoulli heads) return None.
  """

  def __init__(self, agent: agent_interface.Agent, ship_imagination: bool = False, jit_compile: bool = False):
    """Args:
      agent: the agent to act with (its variables may be replaced between calls).
      ship_imagination: also return the compact imagined rollouts of each step.
      jit_compile: compile the step with XLA (slower than plain graph mode on our 2-core CPU; measure).
    """
    self.agent = agent
    self._palette = imagination_lib.palette_of(agent) if ship_imagination else None
    # No autograph: the agent has no tensor-dependent Python control flow, and conversion is slow.
    self._step = tf.function(self._step_fn, autograph=False, jit_compile=jit_compile)

  def _step_fn(self, frame: tf.Tensor, step_type: tf.Tensor, state: tf.Tensor):
    """uint8 [N, H, W, 3], int32 [N], float32 [N, H, W, C] -> (AgentOutput, next state, compact
    imagination [N, ...] or None)."""
    first = tf.equal(step_type, int(dm_env.StepType.FIRST))[:, None, None, None]
    state = tf.where(first, self.agent.initial_state(tf.shape(state)[0]), state)
    frame = tf.cast(frame, tf.float32) / 255.0  # Frames enter the networks as float32 in [0, 1].
    output, next_state, imagination = self.agent.step(frame, state)
    if self._palette is None or imagination is None:
      return output, next_state, None
    return output, next_state, imagination_lib.compact(imagination, self._palette)

  def initial_state(self, num_envs: int) -> np.ndarray:
    """float32 [N, H, W, C]: the agent's initial state for N copies."""
    return self.agent.initial_state(num_envs).numpy()

  def step_and_imagination(self, timestep: batched.BatchedTimeStep, state: np.ndarray
                           ) -> tuple[types.AgentOutput, np.ndarray, Optional[imagination_lib.CompactImagination]]:
    """One step: AgentOutput of NumPy arrays (int32 [N], float32 [N, A], float32 [N]), the next state,
    and the compact imagination of NumPy arrays (None unless shipped)."""
    output, next_state, imagination = self._step(timestep.observation["rgb"],
                                                 np.asarray(timestep.step_type, np.int32), state)
    if imagination is not None:
      imagination = imagination_lib.CompactImagination(*(None if x is None else x.numpy()
                                                         for x in imagination))
    return types.AgentOutput(*(x.numpy() for x in output)), next_state.numpy(), imagination

  def __call__(self, timestep: batched.BatchedTimeStep, state: np.ndarray
               ) -> tuple[types.AgentOutput, np.ndarray]:
    """One step: AgentOutput of NumPy arrays (int32 [N], float32 [N, A], float32 [N]), next state."""
    return self.step_and_imagination(timestep, state)[:2]


class AgentActions:
  """A stateful policy for a batched environment: timestep -> int32 [N] actions, as the actors act."""

  def __init__(self, agent: agent_interface.Agent, num_envs: int, greedy: bool = False):
    """Args:
      agent: the acting agent.
      num_envs: N, the copies of the environment it acts in.
      greedy: act by argmax of the policy logits instead of sampling.
    """
    self._step = PolicyStep(agent)
    self._state = self._step.initial_state(num_envs)
    self._greedy = greedy

  def __call__(self, timestep: batched.BatchedTimeStep) -> np.ndarray:
    output, self._state = self._step(timestep, self._state)
    if self._greedy:
      return np.argmax(output.policy_logits, axis=-1).astype(np.int32)
    return output.action.astype(np.int32)


class UniformActions:
  """Uniformly random actions from a seeded NumPy generator: timestep -> int32 [N]."""

  def __init__(self, num_actions: int, seed: int):
    """Args:
      num_actions: A; actions are drawn from 0..A-1.
      seed: the generator's seed.
    """
    self._num_actions, self._rng = num_actions, np.random.default_rng(seed)

  def __call__(self, timestep: batched.BatchedTimeStep) -> np.ndarray:
    return self._rng.integers(self._num_actions, size=len(timestep.step_type)).astype(np.int32)


def resolve_checkpoint(path: str) -> str:
  """The checkpoint prefix named by a `launch.train` logdir, its checkpoints/ directory, or a prefix.

  Raises:
    ValueError: no checkpoint there, with the path named.
  """
  return checkpoint_candidates(path)[0]


def checkpoint_candidates(path: str) -> list[str]:
  """The checkpoint prefixes `path` names, newest first: every `ckpt-N` of a logdir or checkpoints/
  directory (whatever its `checkpoint` index says, which may be lost or stale), or the prefix itself.

  Raises:
    ValueError: no checkpoint there, with the path named.
  """
  if os.path.isdir(path):
    for directory in (os.path.join(path, "checkpoints"), path):
      found = [prefix for _, prefix in checkpointing.checkpoints_on_disk(directory)]
      latest = tf.train.latest_checkpoint(directory) if os.path.isdir(directory) else None
      if latest and latest not in found and os.path.exists(latest + ".index"):
        found.insert(0, latest)  # A prefix of another name (an exported model, say).
      if found:
        return found
    raise ValueError(f"{path!r}: no checkpoint in it or in its checkpoints/ directory; train first.")
  if not os.path.exists(path + ".index"):
    raise ValueError(f"{path!r}: neither a directory nor a checkpoint prefix ({path}.index does not exist).")
  return [path]


class RestoredAgent(NamedTuple):
  """An agent with a training checkpoint's weights.

  Attributes:
    agent: the I2AAgent, variables built and restored.
    path: the checkpoint prefix it was restored from.
    learner_step: the learner step the checkpoint was saved at.
    num_frames: the environment frames trained on when it was saved.
  """
  agent: agent_interface.Agent
  path: str
  learner_step: int
  num_frames: int


def restore_agent(agent_config: configs.AgentConfig, path: str, seed: Optional[int] = None,
                  discount: float = rl_losses.DISCOUNT) -> RestoredAgent:
  """Builds the agent of `agent_config` and loads the weights of a `launch.train` checkpoint into it.

  Args:
    agent_config: the agent the checkpoint was trained as.
    path: a `launch.train` logdir, its checkpoints/ directory (the newest readable checkpoint is used;
      unreadable newer ones are skipped with a warning naming each and why), or a checkpoint prefix.
    seed: seeds the agent's action sampling (None: non-deterministic).
    discount: the run's gamma (`LearnerConfig.discount`), which the Monte Carlo agent's imagined
      returns use.

  Returns:
    The restored agent with the checkpoint's prefix, learner step and frame count.

  Raises:
    ValueError: no checkpoint at `path`.
    checkpointing.CheckpointError: the checkpoint is unreadable or holds another agent.
  """
  candidates = checkpoint_candidates(path)
  agent = factory.build_agent(dataclasses.replace(agent_config, seed=seed), discount=discount)
  agent_core.build_variables(agent)
  learner_step = tf.Variable(0, dtype=tf.int64)
  num_frames = tf.Variable(0, dtype=tf.int64)
  # The learner's layout minus its optimizer (`Learner.trackables`): nothing is built for inference.
  restore = lambda prefix: checkpointing.restore_objects(prefix, agent=agent, learner_step=learner_step,
                                                         num_frames=num_frames)
  if len(candidates) == 1:  # A prefix named by the user: its own error, whatever its kind.
    restore(candidates[0])
    prefix, skipped = candidates[0], []
  else:
    prefix, skipped = checkpointing.restore_newest_readable(candidates, restore)
  if prefix is not None:
    if skipped:
      logging.warning("Restored %s, the newest readable checkpoint of %s.", prefix, path)
    return RestoredAgent(agent, prefix, int(learner_step.numpy()), int(num_frames.numpy()))
  raise checkpointing.CheckpointError(f"No readable checkpoint in {path!r}: "
                                     + " | ".join(reason for _, reason in skipped))
