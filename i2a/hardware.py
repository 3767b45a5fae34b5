"""Does this machine compute bfloat16 faster than float32? The rule behind the default precision.

bfloat16 pays only where the hardware has bfloat16 arithmetic: a GPU, or a CPU with AMX or AVX-512
BF16 instructions, on which TensorFlow's oneDNN kernels run bfloat16 matmuls and convolutions about 4x
faster than float32 (measured on a 2-core Intel CPU with amx_bf16). Elsewhere TensorFlow emulates it:
on a 2-core AMD EPYC with AVX2 only, the bfloat16 matmul peak was below float32's and paper-size
MiniPacman I2A's learner ran about 2x slower in bfloat16 (WORKSPACE.md, deviations 22 and 42). So an agent
that imagines computes in bfloat16 by default only where `native_bfloat16()` holds.

    precision = hardware.default_precision(imagines=True)  # 'bfloat16' or 'float32'
"""
import functools

import tensorflow as tf

# /proc/cpuinfo flags of the x86 instructions that oneDNN uses for bfloat16 matmuls and convolutions.
BFLOAT16_CPU_FLAGS = frozenset({"amx_bf16", "avx512_bf16"})


def cpu_flags(cpuinfo_path: str = "/proc/cpuinfo") -> frozenset:
  """The CPU feature flags Linux lists (the first 'flags' line); empty where the file does not exist
  (other systems), so that they fall back to float32."""
  try:
    with open(cpuinfo_path) as f:
      for line in f:
        key, _, value = line.partition(":")
        if key.strip() == "flags":
          return frozenset(value.split())
  except OSError:
    pass
  return frozenset()


@functools.lru_cache(maxsize=None)
def native_bfloat16() -> bool:
  """Whether TensorFlow sees a GPU or the CPU has bfloat16 instructions (AMX or AVX-512 BF16)."""
  if tf.config.list_physical_devices("GPU"):
    return True
  return bool(BFLOAT16_CPU_FLAGS & cpu_flags())


def default_precision(imagines: bool) -> str:
  """The compute precision an agent gets when none is given.

  Args:
    imagines: whether the agent runs an environment model (its imagination path), where bfloat16's
      speed pays; the small model-free networks were faster in float32 even on the AMX CPU.

  Returns:
    'bfloat16' for an agent that imagines on hardware with bfloat16 arithmetic, else 'float32'.
  """
  return "bfloat16" if imagines and native_bfloat16() else "float32"
