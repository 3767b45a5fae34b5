"""One list of every talk module with example inputs, for the conformance suite (modelled on
Sonnet's own conformance tests). Small widths keep it fast; frames are MiniPacman-sized (15x19)."""
from typing import Callable, NamedTuple

import numpy as np
import sonnet as snt
import tensorflow as tf

import i2a
from testing import fakes

H, W, A, S = fakes.H, fakes.W, fakes.A, fakes.S  # Frame height and width, actions, frame-stack size.
SMALL_TORSO = fakes.SMALL_TORSO


class ModuleCase(NamedTuple):
  name: str
  build: Callable[[], snt.Module]
  inputs: Callable[[int], tuple]  # batch size -> example inputs (NumPy), all with a leading batch axis.


def frames(batch: int, channels: int = 3, seed: int = 0) -> np.ndarray:
  return np.random.default_rng(seed).uniform(size=(batch, H, W, channels)).astype(np.float32)


def actions(batch: int, seed: int = 1) -> np.ndarray:
  return np.random.default_rng(seed).integers(0, A, size=(batch,)).astype(np.int32)


def rewards(batch: int, seed: int = 2) -> np.ndarray:
  return np.random.default_rng(seed).normal(size=(batch,)).astype(np.float32)


def _imag_path(env_model, rollout_policy):
  return i2a.ImagPath(A, 3, env_model, rollout_policy, i2a.SingleImagFeature(8, A, SMALL_TORSO), lstm_size=8)


CASES = (
    ModuleCase("frame_processing", lambda: i2a.FrameProcessing(8), lambda b: (frames(b, 3 * S),)),
    ModuleCase("frame_processing_no_linear", lambda: i2a.FrameProcessing(None, SMALL_TORSO),
               lambda b: (frames(b),)),
    ModuleCase("single_imag_feature", lambda: i2a.SingleImagFeature(8, A),
               lambda b: (frames(b), rewards(b), actions(b))),
    ModuleCase("no_imag_path", i2a.NoImagPath, lambda b: (frames(b, 3 * S),)),
    ModuleCase("imag_path_conv_model_rollout_policy",
               lambda: _imag_path(i2a.SizePreservingConvNetModel(A, (-1.0, 0.0, 1.0)),
                                  i2a.RolloutPolicy(A, 8, SMALL_TORSO, seed=3)),
               lambda b: (frames(b, 3 * S),)),
    ModuleCase("imag_path_copy_model_random_policy",
               lambda: _imag_path(i2a.CopyModel(3), i2a.RandomPolicy(A, seed=4)),
               lambda b: (frames(b, 3 * S),)),
    ModuleCase("rollout_policy", lambda: i2a.RolloutPolicy(A, 8, seed=5), lambda b: (frames(b),)),
    ModuleCase("random_policy", lambda: i2a.RandomPolicy(A, seed=6), lambda b: (frames(b),)),
    ModuleCase("copy_model", lambda: i2a.CopyModel(3), lambda b: (frames(b, 3 * S), actions(b))),
    ModuleCase("size_preserving_conv_net_model", lambda: i2a.SizePreservingConvNetModel(A, (-1.0, 0.0, 1.0)),
               lambda b: (frames(b, 3 * S), actions(b))),
    ModuleCase("agent_standard", lambda: fakes.small_agent("standard"),
               lambda b: (frames(b), frames(b, 3 * S, seed=3))),
    ModuleCase("agent_copy", lambda: fakes.small_agent("copy"), lambda b: (frames(b), frames(b, 3 * S, seed=3))),
    ModuleCase("agent_i2a", lambda: fakes.small_agent("i2a"), lambda b: (frames(b), frames(b, 3 * S, seed=3))),
    ModuleCase("agent_mc", lambda: fakes.small_agent("mc"),
               lambda b: (frames(b), frames(b, 3 * S, seed=3))),
)


def reset_samplers(module: snt.Module) -> None:
  """Restarts every sampling stream in `module`, so repeated calls draw the same actions."""
  from i2a import sampling  # pylint: disable=g-import-not-at-top
  for sub in (module,) + tuple(module.submodules):
    if isinstance(sub, sampling.Sampler):
      sub.reset(11)


def as_numpy(structure):
  return tf.nest.map_structure(lambda t: np.asarray(t), structure)


def unknown_batch_signature(inputs: tuple) -> list:
  return [tf.TensorSpec((None,) + x.shape[1:], tf.as_dtype(x.dtype)) for x in inputs]
