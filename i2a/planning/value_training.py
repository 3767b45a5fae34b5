"""Training data and regression for the MCTS value network (paper App. D.3).

The paper regresses the value network on 1e8 (frame, return) pairs from a model-free agent trained for
1e9 steps (about 60% of levels solved; App. D.3, recalled). Without such an agent at hand, `solver_dataset`
labels positions with the return of *optimal* play from the exact solver (`envs.sokoban.solver`):
positions along each level's optimal solution, and positions after a few random moves (solved again from
there, or labelled with the return of never solving if they are lost or too far from the time limit).
An agent's returns can be fed to `fit` instead: it takes any (planes, returns) arrays.
"""
from typing import Optional

import numpy as np
import sonnet as snt
import tensorflow as tf

from envs.sokoban import config as sokoban_config
from envs.sokoban import env as env_lib
from envs.sokoban import generator
from envs.sokoban import solver
from i2a.planning import symbolic
from i2a.planning import value_net as value_net_lib


def failing_return(steps_left: int, discount: float) -> float:
  """The discounted return of `steps_left` steps that never push a box: -0.1 * sum_k discount^k."""
  return sokoban_config.STEP_REWARD * sum(discount ** k for k in range(steps_left))


def optimal_returns(env: env_lib.Sokoban, discount: float) -> Optional[list[tuple[np.ndarray, float]]]:
  """(level uint8 [H, W], return of optimal play) for the env's position and each one along its
  solution; None if the position is lost. The env is left where it was."""
  start = env.get_state(include_rng=False)
  cfg = env.config
  level = start.level(cfg.height, cfg.width)
  try:
    solution = solver.solve(level)
  except solver.SolverBudgetExceeded:
    return None
  if solution is None or start.steps + len(solution.moves) > cfg.max_steps:
    return None
  levels, rewards = [level.copy()], []
  for move in solution.moves:
    ts = env.step(move)
    rewards.append(float(ts.reward))
    levels.append(env.current_level())
  env.set_state(start)
  returns, g = [], 0.0
  for r in reversed(rewards):
    g = r + discount * g
    returns.append(g)
  return list(zip(levels[:-1], returns[::-1]))  # The solved position is terminal: not a training input.


def solver_dataset(rng: np.random.Generator, num_levels: int, room_size: int = 10, num_boxes: int = 4,
                   discount: float = 0.99, detours: int = 4, max_detour: int = 20,
                   max_steps: int = 120) -> tuple[np.ndarray, np.ndarray]:
  """Positions of generated levels labelled with optimal-play returns.

  Args:
    rng: draws the levels and the random detours.
    num_levels: levels to generate.
    room_size, num_boxes, max_steps: the Sokoban settings.
    discount: of the returns (the MCTS discount).
    detours: per level, random-walk positions (1..max_detour random moves from the start) to add.
    max_detour: longest detour.

  Returns:
    (planes float32 [N, room_size, room_size, 4], returns float32 [N]).
  """
  env = env_lib.Sokoban(room_size, room_size, num_boxes, max_steps, observation="symbolic")
  planes, targets = [], []
  for _ in range(num_levels):
    level = generator.generate_level(rng, width=room_size, height=room_size, num_boxes=num_boxes)
    env.reset_to_level(level)
    start = env.get_state(include_rng=False)
    for detour in range(detours + 1):
      env.set_state(start)
      ended = False
      for action in rng.integers(1, sokoban_config.NUM_ACTIONS, rng.integers(1, max_detour + 1)
                                 if detour else 0):
        if env.step(int(action)).last():
          ended = True
          break
      if ended:
        continue
      labelled = optimal_returns(env, discount)
      if labelled is None:
        steps = env.get_state(include_rng=False).steps
        labelled = [(env.current_level(), failing_return(max_steps - steps, discount))]
      elif detour:
        labelled = labelled[:1]  # The solution path itself is already in from detour 0.
      for lvl, g in labelled:
        planes.append(symbolic.level_planes(lvl))
        targets.append(g)
  return np.stack(planes).astype(np.float32), np.array(targets, np.float32)


def fit(net: value_net_lib.ValueNet, planes: np.ndarray, returns: np.ndarray, num_steps: int,
        batch_size: int = 128, learning_rate: float = 1e-3, seed: int = 0) -> list[float]:
  """Regresses `net` on (planes float32 [N, H, W, 4], returns float32 [N]) with Adam and squared error.

  Returns:
    The loss of every step (mean squared error of the batch).
  """
  if len(planes) != len(returns) or len(planes) == 0:
    raise ValueError(f"fit needs as many returns as planes (>= 1), got {len(planes)} and {len(returns)}")
  optimizer = snt.optimizers.Adam(learning_rate)
  net(tf.constant(planes[:1]))  # Create the variables before tracing the step.

  @tf.function
  def step(x, y):
    with tf.GradientTape() as tape:
      loss = tf.reduce_mean(tf.square(net(x) - y))
    grads = tape.gradient(loss, net.trainable_variables)
    optimizer.apply(grads, net.trainable_variables)
    return loss

  rng = np.random.default_rng(seed)
  losses = []
  for _ in range(num_steps):
    idx = rng.choice(len(planes), min(batch_size, len(planes)), replace=False)
    losses.append(float(step(tf.constant(planes[idx]), tf.constant(returns[idx]))))
  return losses
