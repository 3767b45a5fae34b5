"""Where the learner runs (GPU when TensorFlow sees one) and whether mixed precision is available.

The same learner code runs on either device: `Learner` creates its variables and runs its step inside
`tf.device(resolve_device(config.device))`, and nothing else in the library names a device.
"""
from typing import Optional

import sonnet as snt
import tensorflow as tf

MIXED_PRECISION_DTYPES = ("float16", "bfloat16")


def resolve_device(device: Optional[str] = None) -> str:
  """The device to place the learner on.

  Args:
    device: None for automatic (the first GPU when `tf.config.list_physical_devices('GPU')` is not
      empty, else the CPU), or an explicit name such as '/GPU:0' or '/CPU:0' (case-insensitive,
      '/device:' prefix optional).

  Returns:
    A canonical device name, '/GPU:<i>' or '/CPU:<i>'.

  Raises:
    ValueError: if `device` is malformed or names a device TensorFlow does not see.
  """
  if device is None:
    return "/GPU:0" if tf.config.list_physical_devices("GPU") else "/CPU:0"
  name = device.strip().upper().replace("/DEVICE:", "/")
  kind, _, index = name.lstrip("/").partition(":")
  if kind not in ("CPU", "GPU") or not index.isdigit():
    raise ValueError(f"device must look like '/GPU:0' or '/CPU:0' (or be None for automatic), got "
                     f"{device!r}.")
  available = tf.config.list_logical_devices(kind)
  if int(index) >= len(available):
    seen = [d.name for d in tf.config.list_logical_devices()]
    raise ValueError(f"device {device!r} is not available; TensorFlow sees {seen}.")
  return f"/{kind}:{int(index)}"


def is_gpu(device: str) -> bool:
  """Whether a name returned by `resolve_device` is a GPU."""
  return device.upper().startswith("/GPU")


def check_mixed_precision(enabled: bool, dtype: str = "float16") -> None:
  """Raises unless mixed precision can be honoured; it cannot be yet, so it always raises when enabled.

  Sonnet 2.0.2 has `snt.mixed_precision` (`enable`, `scope`, `modes`), but `scope` only affects
  functions decorated with `snt.mixed_precision.modes`, which casts their floating arguments and every
  snt.Module variable read inside them to the compute dtype. No built-in Sonnet module is decorated, so
  the learner would have to decorate the whole agent call, and `I2AAgent` rejects non-float32 frames,
  while `ImagPath`, `NoImagPath`, `CopyModel` and the frame heads build float32 tensors (zeros, one-hot
  actions, palettes) that cannot be concatenated with float16 features. Running the unroll under
  `snt.mixed_precision.scope` alone would silently compute in float32, so we refuse instead. Keras mixed
  precision policies are excluded by the project's no-Keras rule.

  Args:
    enabled: the learner config's `mixed_precision`.
    dtype: the compute dtype that would be used, 'float16' or 'bfloat16'.

  Raises:
    ValueError: for an unknown dtype.
    NotImplementedError: whenever `enabled` is True.
  """
  if dtype not in MIXED_PRECISION_DTYPES:
    raise ValueError(f"mixed precision dtype must be one of {MIXED_PRECISION_DTYPES}, got {dtype!r}.")
  if not enabled:
    return
  api = "present" if hasattr(snt, "mixed_precision") else "absent"
  raise NotImplementedError(
      f"mixed_precision=True ({dtype}) is not supported: snt.mixed_precision is {api} in Sonnet "
      f"{snt.__version__} but only casts functions decorated with snt.mixed_precision.modes, and the "
      "agent's modules hard-code float32 (I2AAgent's frame check, ImagPath/NoImagPath/CopyModel "
      "float32 tensors). Use AgentConfig(precision='bfloat16' or 'float16') instead: the agent's own "
      "layers compute in that dtype with float32 variables (i2a/layers.py).")
