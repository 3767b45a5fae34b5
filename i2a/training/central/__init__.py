"""Central batched inference (SEED RL, Espeholt et al., ICLR 2020): environment workers step
environments, one server beside the learner runs the policy for all of them and writes the unrolls.

`server` (batching, frame stacks, the policy step, weights), `streams` (one sampling stream per
worker), `unrolls` (each worker's unrolls), `build` (from a run's ActorBuilder); the transports are
`i2a/training/backends/central_local.py`, `central_sync.py` and `central_ray.py`.
"""
