"""A Gymnasium view of any of our dm_env environments (Sokoban, MiniPacman).

gymnasium is an optional extra (`pip install -e .[gym]`): this module imports without it, and builds
the adapter class the first time `GymnasiumAdapter` is looked up (PEP 562 module `__getattr__`), so
`from envs.gym_adapter import GymnasiumAdapter` raises a clear ImportError only where it is used.

Episode ends map as dm_env's convention suggests: a LAST step with discount 0 is `terminated` (a true
end: no bootstrapping), a LAST step with discount > 0 is `truncated` (e.g. Sokoban's 120-step limit).
MiniPacman's frame cap ends an episode with discount 0, as the released game does, so it is `terminated`.
"""
import functools
from typing import Any

import dm_env
from dm_env import specs
import numpy as np


def _space_of(spec: specs.Array):
  """The gymnasium space of one dm_env spec (DiscreteArray -> Discrete, else Box)."""
  import gymnasium  # pylint: disable=g-import-not-at-top
  if isinstance(spec, specs.DiscreteArray):
    return gymnasium.spaces.Discrete(spec.num_values)
  if isinstance(spec, specs.BoundedArray):
    low, high = spec.minimum, spec.maximum
  elif np.issubdtype(spec.dtype, np.integer):
    low, high = np.iinfo(spec.dtype).min, np.iinfo(spec.dtype).max
  else:
    low, high = -np.inf, np.inf
  return gymnasium.spaces.Box(low=np.broadcast_to(low, spec.shape).astype(spec.dtype),
                              high=np.broadcast_to(high, spec.shape).astype(spec.dtype),
                              shape=spec.shape, dtype=spec.dtype)


@functools.lru_cache(maxsize=None)
def _adapter_class():
  """Defines the adapter once gymnasium is importable."""
  try:
    import gymnasium  # pylint: disable=g-import-not-at-top
  except ImportError as e:
    raise ImportError("envs.gym_adapter.GymnasiumAdapter needs gymnasium: pip install 'gymnasium>=1.0' "
                      "(or the package's [gym] extra)") from e

  class GymnasiumAdapter(gymnasium.Env):
    """Wraps a `dm_env.Environment` with a discrete action spec as a `gymnasium.Env`.

    Observations: a dict observation spec gives a `spaces.Dict` of Boxes, one array spec a Box; with
    `observation_key`, only that entry of a dict observation is returned (as a Box).
    Seeding: `reset(seed=s)` calls the wrapped environment's `reseed(s)` (our environments have it).
    `render()` returns the last observation's 'rgb' array (render_mode 'rgb_array').
    """

    metadata = {"render_modes": ["rgb_array"]}

    def __init__(self, env: dm_env.Environment, observation_key: str | None = None,
                 render_mode: str | None = None):
      """Wraps `env`.

      Args:
        env: the dm_env environment; its action spec must be a `specs.DiscreteArray`.
        observation_key: if set, return only this key of a dict observation.
        render_mode: None or 'rgb_array'.

      Raises:
        ValueError: for a non-discrete action spec, an unknown key or render mode.
      """
      action_spec = env.action_spec()
      if not isinstance(action_spec, specs.DiscreteArray):
        raise ValueError(f"GymnasiumAdapter needs a DiscreteArray action spec, got {action_spec!r}")
      if render_mode not in (None, "rgb_array"):
        raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
      obs_spec = env.observation_spec()
      if observation_key is not None:
        if not isinstance(obs_spec, dict) or observation_key not in obs_spec:
          keys = sorted(obs_spec) if isinstance(obs_spec, dict) else "none (not a dict)"
          raise ValueError(f"observation_key {observation_key!r} is not an observation key; keys: {keys}")
        obs_spec = obs_spec[observation_key]
      self._env = env
      self._key = observation_key
      self.render_mode = render_mode
      self.action_space = _space_of(action_spec)
      if isinstance(obs_spec, dict):
        self.observation_space = gymnasium.spaces.Dict({k: _space_of(s) for k, s in obs_spec.items()})
      else:
        self.observation_space = _space_of(obs_spec)
      self._last_observation = None

    @property
    def dm_env(self) -> dm_env.Environment:
      """The wrapped dm_env environment."""
      return self._env

    def _convert(self, observation: Any) -> Any:
      self._last_observation = observation
      return observation if self._key is None else observation[self._key]

    def reset(self, *, seed: int | None = None, options: dict | None = None):
      """Starts an episode; returns (observation, info)."""
      super().reset(seed=seed)
      if seed is not None:
        if not hasattr(self._env, "reseed"):
          raise ValueError(f"{type(self._env).__name__} has no reseed(seed) method, so reset(seed=...) "
                           "cannot seed it; seed it at construction instead")
        self._env.reseed(seed)
      timestep = self._env.reset()
      return self._convert(timestep.observation), {}

    def step(self, action):
      """Returns (observation, reward, terminated, truncated, info); info holds the discount."""
      timestep = self._env.step(action)
      if timestep.first():  # Stepped past an episode end without reset(): a new episode began.
        return self._convert(timestep.observation), 0.0, False, False, {"discount": 1.0}
      discount = float(timestep.discount)
      last = timestep.last()
      return (self._convert(timestep.observation), float(timestep.reward), last and discount == 0.0,
              last and discount != 0.0, {"discount": discount})

    def render(self):
      if self.render_mode is None or self._last_observation is None:
        return None
      obs = self._last_observation
      return obs.get("rgb") if isinstance(obs, dict) else obs

    def close(self):
      self._env.close()

  GymnasiumAdapter.__qualname__ = "GymnasiumAdapter"  # Found again through the module __getattr__.
  return GymnasiumAdapter


def __getattr__(name: str) -> Any:
  if name == "GymnasiumAdapter":
    return _adapter_class()
  raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
