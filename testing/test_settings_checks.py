"""Each setting's own checks come from its declaration (i2a/settings.py): choices and bounds are declared
once, beside the default and help text, and every config applies them with `settings.check`."""
import dataclasses
from typing import Optional

import pytest

from i2a import configs
from i2a import settings
from i2a.settings import setting
from i2a.training import environments
from i2a.training import learner_config
from i2a.training import train_config


@dataclasses.dataclass(frozen=True)
class Toy:
  mode: str = setting("a", "A mode.", choices=("a", "b"))
  count: int = setting(1, "A count.", at_least=1)
  rate: Optional[float] = setting(None, "A rate; unset: none.", above=0)
  share: float = setting(0.5, "A share.", at_least=0, at_most=1)

  def __post_init__(self):
    settings.check(self)


@pytest.mark.parametrize("values,message", [
    (dict(mode="c"), r"Unknown mode 'c' \(Toy.mode\); expected one of \('a', 'b'\)\."),
    (dict(count=0), r"Toy.count must be >= 1, got 0\."),
    (dict(rate=0.0), r"Toy.rate must be > 0, got 0\.0\."),
    (dict(share=1.5), r"Toy.share must be <= 1, got 1\.5\."),
    (dict(share=-0.1), r"Toy.share must be >= 0, got -0\.1\."),
])
def test_a_declared_rule_is_enforced(values, message):
  with pytest.raises(ValueError, match=message):
    Toy(**values)


def test_values_on_the_bounds_and_unset_pass():
  assert Toy(mode="b", count=1, rate=None, share=1.0) == Toy(mode="b", count=1, rate=None, share=1.0)
  assert Toy(rate=1e-9, share=0.0).rate == 1e-9


@pytest.mark.parametrize("build,message", [
    (lambda: train_config.TrainConfig(num_actors=0), "TrainConfig.num_actors must be >= 1"),
    (lambda: train_config.TrainConfig(inference_max_wait_secs=0.0), "TrainConfig.inference_max_wait_secs must be > 0"),
    (lambda: train_config.TrainConfig(checkpoint_every_secs=-1.0), "TrainConfig.checkpoint_every_secs must be > 0"),
    (lambda: train_config.TrainConfig(backend="mpi"), "Unknown backend 'mpi'"),
    (lambda: environments.EnvConfig(level_workers=-1), "EnvConfig.level_workers must be >= 0"),
    (lambda: environments.EnvConfig(level_when_dry="skip"), "Unknown level_when_dry 'skip'"),
    (lambda: learner_config.LearnerConfig(discount=1.5), "LearnerConfig.discount must be <= 1"),
    (lambda: learner_config.LearnerConfig(max_grad_norm=0.0), "LearnerConfig.max_grad_norm must be > 0"),
    (lambda: configs.AgentConfig(rollout_temperature=0.0), "AgentConfig.rollout_temperature must be > 0"),
    (lambda: configs.AgentConfig(hidden_size=0), "AgentConfig.hidden_size must be >= 1"),
    (lambda: configs.AgentConfig(encoder_direction="sideways"), "Unknown encoder_direction 'sideways'"),
])
def test_the_run_configs_use_their_declarations(build, message):
  with pytest.raises(ValueError, match=message):
    build()


def test_every_bound_is_declared_on_a_number():
  """A bound on a string or a choice list on a number would be a declaration mistake."""
  for cls in (train_config.TrainConfig,):
    for declared in settings.declared(cls):
      meta = declared.field.metadata
      if any(meta[k] is not None for k in ("at_least", "above", "at_most")):
        assert declared.value_type in (int, float), declared.path
      if meta["choices"] is not None:
        assert declared.value_type is str, declared.path
