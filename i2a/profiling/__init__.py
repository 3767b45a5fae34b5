"""Profiling: what a model costs, for `launch.describe`, the benchmarks and `launch.profile_train`.

model_cost counts parameters and floating-point operations of the talk's modules; op_profile turns a
TensorFlow profiler trace into a table of where a compiled step's time goes. It imports the talk's
modules in `i2a`; the training system does not import it.
"""
