"""launch/: every flag name is defined once (all binaries import into one process), every documented
command line parses, and each binary keeps its own defaults for the shared flags it reads."""
import collections
import glob
import importlib
import os
import pkgutil
import re
import shlex

from absl import flags
import pytest

import launch
from envs import minipacman

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODULES = sorted(m.name for m in pkgutil.iter_modules(launch.__path__))
BINARIES = [m for m in MODULES if m not in ("common_flags", "config_flags", "flags_to_config")]
_DEFINE = re.compile(r"DEFINE_\w+\(\s*\"(\w+)\"")
_COMMAND = re.compile(r"python -m launch\.(\w+)((?:\\\n|[^\n`])*)")

# Each binary's settings with no flags given: the defaults it had before its flags moved to
# launch/common_flags.py (benchmark_levels' --max_steps list is now --step_limits, its --pool_size the
# shared --level_pool_size).
DEFAULTS = {
    "benchmark_agent": dict(games=["minipacman", "sokoban"], agents=["standard", "copy", "i2a"], batch_size=32,
                            unroll_length=20, seconds=10.0, precision="bfloat16", jit_compile=False),
    "benchmark_envs": dict(seconds=2.0, num_envs=256, games=["sokoban", "minipacman"], pool_size=32,
                           observation="rgb"),
    "benchmark_levels": dict(seconds=3.0, num_envs=16, level_pool_size=4096, warmup=2.0, step_limits=["5", "20"],
                             sizes=["6:1:2", "7:2:2", "10:4:8"], workers=1, nice=10),
    "benchmark_train": dict(games=["sokoban", "minipacman"], seconds=30.0, batch_size=32, unroll_length=20,
                            envs_per_actor=16, room_size=10, num_boxes=4, pixels_per_cell=8, torso=None,
                            hidden_size=None, num_actors=2, lstm_size=None, rollout_hidden_size=None, actor_jit=False,
                            inference="actor",
                            agents=["standard", "copy", "i2a"], precisions=["bfloat16", "float32"],
                            reuse=["true", "false"], env_model_sizes=["good"], learner_steps=5,
                            skip_full_training=False),
    "describe": dict(games=["minipacman", "sokoban"], agents=["standard", "large", "copy", "i2a", "talk", "mc"],
                     batch_size=4, rollout_depth=5),
    "minipacman_random_play": dict(episodes=200, seed=0, frame_cap=minipacman.FRAME_CAP,
                                   tasks=list(minipacman.TASKS)),
}


def _import_all():
  return {name: importlib.import_module(f"launch.{name}") for name in MODULES}


def documented_commands():
  """(binary, args) of every `python -m launch.X ...` line in the binaries' docstrings, README.md,
  WORKSPACE.md and launch/configs/PIPELINE.md; lines with placeholders (<...>, $VAR, ...) are left out."""
  texts = [open(path).read() for path in [os.path.join(REPO, "README.md"), os.path.join(REPO, "WORKSPACE.md"),
                                          os.path.join(REPO, "launch", "configs", "PIPELINE.md")]]
  texts += [open(path).read().split('"""')[1] for path in glob.glob(os.path.join(REPO, "launch", "*.py"))
            if open(path).read().count('"""') >= 2]
  commands = set()
  for text in texts:
    for binary, rest in _COMMAND.findall(text):
      rest = re.split(r"\s{3,}#|\s#\s", rest.replace("\\\n", " "))[0]
      if any(mark in rest for mark in ("<", "$", "...")):
        continue
      args = [a.split("|")[0] for a in shlex.split(rest.replace("[", " ").replace("]", " "))]
      commands.add((binary, tuple(args)))
  return sorted(commands)


def test_every_flag_name_is_defined_once_and_all_binaries_import_together():
  where = collections.defaultdict(list)
  for path in sorted(glob.glob(os.path.join(REPO, "launch", "*.py"))):
    for name in _DEFINE.findall(open(path).read()):
      where[name].append(os.path.basename(path))
  assert {n: w for n, w in where.items() if len(w) > 1} == {}
  modules = _import_all()  # A second definition of a name would raise DuplicateFlagError here.
  assert set(BINARIES) <= set(modules) and len(BINARIES) >= 16
  for name in where:
    assert name in flags.FLAGS, name


def test_the_documented_commands_are_found():
  binaries = {binary for binary, _ in documented_commands()}
  assert {"benchmark_agent", "benchmark_envs", "benchmark_levels", "benchmark_train", "describe",
          "minipacman_random_play", "evaluate", "collect", "talk_demo"} <= binaries


@pytest.mark.parametrize("binary,args", documented_commands(), ids=lambda x: x if isinstance(x, str) else "")
def test_documented_command_parses(parse_flags, monkeypatch, binary, args):
  monkeypatch.chdir(REPO)  # Flag files are named relative to the repository.
  modules = _import_all()
  del parse_flags  # Requested for its clean-up: it unparses the global flags afterwards.
  flags.FLAGS.unparse_flags()
  rest = flags.FLAGS([modules[binary].__name__, *args])  # Unknown flags or bad values raise.
  assert rest == [modules[binary].__name__], f"not flags: {rest[1:]}"  # A value split off by a line break.
  for arg in args:
    name = arg[2:].split("=")[0]
    assert not arg.startswith("--") or name in ("flagfile", "outer_search", "random_policy") or flags.FLAGS[
        name].present, (binary, arg)


@pytest.mark.parametrize("binary", sorted(DEFAULTS))
def test_binaries_keep_their_defaults(parse_flags, binary):
  module = _import_all()[binary]
  assert vars(module.settings(parse_flags(module))) == DEFAULTS[binary]


def test_benchmark_train_docstring_command_gives_its_values(parse_flags):
  module = _import_all()["benchmark_train"]
  args = max((a for b, a in documented_commands() if b == "benchmark_train"), key=len)
  assert "--torso=unset" in args and "--room_size=10" in args
  fv = module.settings(parse_flags(module, *args))
  assert (fv.games, fv.agents, fv.precisions, fv.reuse, fv.env_model_sizes) == (
      ["sokoban", "minipacman"], ["standard", "copy", "i2a"], ["bfloat16", "float32"], ["true", "false"],
      ["good", "small"])
  assert (fv.seconds, fv.room_size, fv.pixels_per_cell, fv.batch_size, fv.unroll_length, fv.torso) == (
      30.0, 10, 8, 32, 20, None)
  short = module.settings(parse_flags(module, "--games=minipacman", "--seconds=2", "--batch_size=8"))
  assert (short.games, short.seconds, short.batch_size, short.envs_per_actor) == (["minipacman"], 2.0, 8, 16)


def test_other_binaries_keep_their_defaults_for_shared_flags(parse_flags, parse_train_config):
  modules = _import_all()
  config = parse_train_config()  # launch.train: the values its flags had before they became shared.
  assert (config.agent.hidden_size, config.agent.torso.channels) == (128, (16, 16))
  assert parse_train_config("--game=sokoban").geometry.pixels_per_cell == 2
  assert (config.envs_per_actor, config.batch_size, config.unroll_length) == (8, 8, 10)
  fv = parse_flags(modules["evaluate"])
  assert modules["evaluate"].settings(fv).episodes == 50 and modules["evaluate"].settings(fv).num_envs == 50
  assert fv.num_envs == 16  # launch.collect's copies.
  assert modules["talk_demo"].FRAME_CAP == 39 and fv["frame_cap"].value is None
