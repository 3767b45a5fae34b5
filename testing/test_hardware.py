"""The default compute precision follows the hardware (i2a/hardware.py): bfloat16 for agents that
imagine only where a GPU or the CPU's AMX / AVX-512 BF16 instructions compute it natively."""
import pytest
import tensorflow as tf

from i2a import configs
from i2a import hardware

CPUINFO = """processor\t: 0
vendor_id\t: GenuineIntel
flags\t\t: fpu sse2 avx avx2 fma {extra}
bugs\t\t: spectre_v1

processor\t: 1
flags\t\t: fpu sse2 avx avx2 fma {extra}
"""


def _cpuinfo(tmp_path, extra):
  path = tmp_path / "cpuinfo"
  path.write_text(CPUINFO.format(extra=extra))
  return str(path)


def test_cpu_flags_reads_the_first_flags_line(tmp_path):
  flags = hardware.cpu_flags(_cpuinfo(tmp_path, "avx512f avx512_bf16 amx_tile amx_bf16"))
  assert flags == {"fpu", "sse2", "avx", "avx2", "fma", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16"}
  assert hardware.cpu_flags(str(tmp_path / "missing")) == frozenset()


@pytest.mark.parametrize("extra, gpus, native", [
    ("avx512f avx512_bf16 amx_tile amx_bf16", [], True),  # Intel with AMX.
    ("avx512f avx512_bf16", [], True),  # AVX-512 BF16 without AMX.
    ("", [], False),  # AVX2 only (the AMD EPYC measured in WORKSPACE.md, deviation 22).
    ("avx512f", [], False),  # AVX-512 without its BF16 extension.
    ("", ["GPU:0"], True),  # Any GPU TensorFlow sees.
])
def test_native_bfloat16_needs_a_gpu_or_bfloat16_cpu_instructions(tmp_path, monkeypatch, extra, gpus, native):
  path, read_flags = _cpuinfo(tmp_path, extra), hardware.cpu_flags
  monkeypatch.setattr(hardware, "cpu_flags", lambda: read_flags(path))
  monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: list(gpus) if kind == "GPU" else [])
  hardware.native_bfloat16.cache_clear()
  try:
    assert hardware.native_bfloat16() is native
  finally:
    hardware.native_bfloat16.cache_clear()


@pytest.mark.parametrize("native", [True, False])
def test_default_precision_by_agent_and_hardware(monkeypatch, native):
  monkeypatch.setattr(hardware, "native_bfloat16", lambda: native)
  expected_imagining = "bfloat16" if native else "float32"
  for variant in ("i2a", "copy"):
    assert configs.AgentConfig(variant=variant).resolved().precision == expected_imagining
  for variant in ("standard", "large"):
    assert configs.AgentConfig(variant=variant).resolved().precision == "float32"
  assert configs.AgentConfig(variant="i2a", imag_path="none").resolved().precision == "float32"
  assert configs.talk_config().resolved().precision == "float32"  # The notebook's float32.
  # A given precision is kept whatever the hardware.
  for precision in ("float32", "bfloat16", "float16"):
    assert configs.AgentConfig(variant="i2a", precision=precision).resolved().precision == precision
