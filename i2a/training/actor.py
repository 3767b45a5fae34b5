"""The actor: steps a batched environment with the policy and cuts the experience into unrolls.

IMPALA-style acting (Espeholt et al. 2018; the paper trains with A3C workers, Sec. 3, App. A): the
actor runs the policy for all its N environment copies in ONE tf.function call per step, and sends the
learner overlapping unrolls of T+1 steps. The calling loop:

    actor = Actor(agent, env, unroll_length=T, variable_source=source)
    while True:
      output = actor.unroll()  # Picks up new weights first, then steps T times.
      queue.put(output)
"""
import abc
from typing import NamedTuple, Optional, Sequence

import dm_env
import numpy as np

from envs import batched
from i2a import agent_core
from i2a import agent_interface
from i2a import imagined as imagination_lib
from i2a import types
from i2a.training import inference


class VariableSource(abc.ABC):
  """Where an actor gets the learner's weights between unrolls (Acme's VariableSource)."""

  @abc.abstractmethod
  def latest_step(self) -> int:
    """The learner step of the newest published weights, or -1 if none are published yet."""

  @abc.abstractmethod
  def get_variables(self) -> tuple[Sequence[np.ndarray], int]:
    """The newest weights (NumPy arrays ordered as `Agent.policy_variables`) and their learner step."""


class EpisodeStats(NamedTuple):
  """Episodes that ended during one unroll (E of them), in order of ending.

  Attributes:
    returns: float64 [E], undiscounted sum of rewards after the FIRST step.
    lengths: int64 [E], steps after the FIRST step.
    terminal: bool [E], True where the LAST step had discount 0 (in Sokoban: the level was solved).
  """
  returns: np.ndarray
  lengths: np.ndarray
  terminal: np.ndarray


class ActorOutput(NamedTuple):
  """One unroll with its provenance.

  Attributes:
    trajectory: a `types.Trajectory` of NumPy arrays, [T+1, N, ...] (see types.Trajectory).
    weights_step: learner step of the weights that acted for steps 1..T (-1 for the initial weights).
    episodes: the episodes that ended in this unroll.
    actor_id: which actor produced it.
  """
  trajectory: types.Trajectory
  weights_step: int
  episodes: EpisodeStats
  actor_id: int


class Actor:
  """Acts in a `BatchedEnvironment` of N copies and emits unrolls of T+1 steps, the last step of one
  being the first step of the next.

  The agent state is the one the agent had before step 0 of the unroll; at FIRST steps the actor resets
  a copy's state to `agent.initial_state` before the agent sees the frame (the learner must do the same).

  With `ship_imagination`, each step's imagined rollouts travel with the unroll as palette indices
  (`Trajectory.imagination`, i2a/imagined.py), for the learner to re-encode; agents whose imagined
  frames are not palette colours (copy model, Bernoulli heads) ship nothing.
  """

  def __init__(self, agent: agent_interface.Agent, env: batched.BatchedEnvironment, unroll_length: int,
               variable_source: Optional[VariableSource] = None, actor_id: int = 0,
               ship_imagination: bool = False, jit_compile: bool = False):
    """Args: agent, env: the policy and its N environment copies. unroll_length: T. variable_source:
    where new weights come from (None: keep the agent's). actor_id: tags the unrolls. ship_imagination:
    send the imagined rollouts with each unroll. jit_compile: compile the policy step with XLA."""
    if unroll_length < 1:
      raise ValueError(f"Actor: unroll_length must be >= 1, got {unroll_length}.")
    if env.num_actions != agent.num_actions:
      raise ValueError(f"Actor: the environment has {env.num_actions} actions but the agent "
                       f"{agent.num_actions}.")
    self._agent = agent
    self._env = env
    self._unroll_length = unroll_length
    self._source = variable_source
    self.actor_id = actor_id
    self._weights_step = -1
    # The same step as evaluation and data collection, plus the imagination for the learner.
    self._policy = inference.PolicyStep(agent, ship_imagination, jit_compile)
    self._pending = None  # (timestep, AgentOutput, state before it, state after it) of the last step.
    n = env.num_envs
    self._running_return = np.zeros(n, np.float64)
    self._running_length = np.zeros(n, np.int64)
    self.num_env_steps = 0  # Environment transitions taken (each step counted once despite overlaps).

  @property
  def weights_step(self) -> int:
    return self._weights_step

  def _act(self, timestep: batched.BatchedTimeStep, state: np.ndarray):
    return self._policy.step_and_imagination(timestep, state)

  def close(self) -> None:
    """Closes the environment (and so its level supply's worker processes)."""
    self._env.close()

  def update_weights(self, force: bool = False) -> None:
    """Copies the source's newest weights into the agent if they are newer than the ones it has."""
    latest = -1 if self._source is None else self._source.latest_step()
    if latest < 0 or (not force and latest == self._weights_step):
      return  # Nothing published yet, or nothing new.
    weights, step = self._source.get_variables()
    variables = self._agent.policy_variables
    if len(weights) != len(variables):
      raise ValueError(f"Actor {self.actor_id}: got {len(weights)} weight arrays for "
                       f"{len(variables)} policy variables.")
    for variable, value in zip(variables, weights):
      if tuple(variable.shape) != tuple(np.shape(value)):
        raise ValueError(f"Actor {self.actor_id}: weights for {variable.name} have shape "
                         f"{np.shape(value)}, expected {tuple(variable.shape)}.")
      variable.assign(value)
    self._weights_step = int(step)

  def _track(self, timestep: batched.BatchedTimeStep, finished: list) -> None:
    """Updates the running episode returns and lengths with one environment step."""
    first = timestep.step_type == dm_env.StepType.FIRST
    self._running_return = np.where(first, 0.0, self._running_return + timestep.reward)
    self._running_length = np.where(first, 0, self._running_length + 1)
    for i in np.flatnonzero(timestep.step_type == dm_env.StepType.LAST):
      finished.append((self._running_return[i], self._running_length[i], timestep.discount[i] == 0))

  def unroll(self) -> ActorOutput:
    """Picks up new weights, then acts T steps and returns the unroll of T+1 steps, [T+1, N, ...]."""
    if self._pending is None:
      timestep = self._env.reset()
      state = self._agent.initial_state(self._env.num_envs).numpy()
      self._act(timestep, state)  # Builds the variables before any weights are copied in.
      agent_core.build_rollout_policy(self._agent)  # As the learner does: its weights are published too.
      self.update_weights(force=True)
      output, next_state, imagined = self._act(timestep, state)
      self._pending = (timestep, output, state, next_state, imagined)
    else:
      self.update_weights()
    timestep, output, initial_state, state, imagined = self._pending
    steps, imaginations = [(timestep, output)], [imagined]
    finished = []
    for _ in range(self._unroll_length):
      timestep = self._env.step(output.action)
      self.num_env_steps += self._env.num_envs
      self._track(timestep, finished)
      before = state
      output, state, imagined = self._act(timestep, state)
      steps.append((timestep, output))
      imaginations.append(imagined)
    self._pending = (timestep, output, before, state, imagined)
    imagination = imagination_lib.stack_arrays(imaginations)
    trajectory = types.Trajectory(
        step_type=np.stack([ts.step_type for ts, _ in steps]).astype(np.int32),
        observation=np.stack([ts.observation["rgb"] for ts, _ in steps]),
        reward=np.stack([ts.reward for ts, _ in steps]).astype(np.float32),
        discount=np.stack([ts.discount for ts, _ in steps]).astype(np.float32),
        action=np.stack([out.action for _, out in steps]).astype(np.int32),
        behaviour_logits=np.stack([out.policy_logits for _, out in steps]).astype(np.float32),
        initial_state=initial_state, imagination=imagination)
    episodes = EpisodeStats(np.array([f[0] for f in finished], np.float64),
                            np.array([f[1] for f in finished], np.int64),
                            np.array([f[2] for f in finished], bool))
    return ActorOutput(trajectory, self._weights_step, episodes, self.actor_id)
