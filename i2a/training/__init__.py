"""The IMPALA-style training system, in data-flow order.

environments (batched games) -> actor (batched acting, T+1 unrolls) -> queues and backends (transport:
threads or Ray) -> learner (V-trace and distillation, one tf.function step) -> loop (the training run)
-> checkpointing (atomic saves and restores). `device` places the learner; `shipping` turns a run into a
model small enough for models/. Reporting (i2a/reporting) and profiling (i2a/profiling) live beside it.
Arrows point one way: these modules import the talk's modules in `i2a`, never the reverse.
"""
