"""RMSPropTF1: TF1's RMSProp update (NumPy reference and TF1's own optimizer), its difference from Sonnet
2's on the first step, tf.function / XLA, checkpoints, slot creation and bad calls."""
import numpy as np
import pytest
import sonnet as snt
import tensorflow as tf

from i2a import optimizers

SHAPES = [(3, 4), (5,)]


def numpy_tf1_rmsprop(params, grads_per_step, lr, decay, momentum, epsilon):
  """TF1's RMSPropOptimizer in float64, from its documented rule: ms starts at 1, mom at 0;
  ms = decay ms + (1 - decay) g^2; mom = momentum mom + lr g / sqrt(ms + epsilon); p -= mom.
  A None gradient leaves that parameter and its slots alone."""
  params = [np.asarray(p, np.float64).copy() for p in params]
  ms = [np.ones_like(p) for p in params]
  mom = [np.zeros_like(p) for p in params]
  for grads in grads_per_step:
    for i, g in enumerate(grads):
      if g is None:
        continue
      ms[i] = decay * ms[i] + (1 - decay) * np.square(g)
      mom[i] = momentum * mom[i] + lr * g / np.sqrt(ms[i] + epsilon)
      params[i] = params[i] - mom[i]
  return params, ms, mom


def _problem(seed):
  rng = np.random.default_rng(seed)
  params = [rng.normal(size=s).astype(np.float32) for s in SHAPES]
  scales = [1.0, 0.01, 3.0, 0.2, 1e-3, 10.0]  # Gradients far below and above sqrt(ms) ~ 1.
  grads = [[(rng.normal(size=s) * scale).astype(np.float32) for s in SHAPES] for scale in scales]
  grads[2][1] = None  # A parameter without a gradient this step is skipped.
  return params, grads


@pytest.mark.parametrize("lr, decay, momentum, epsilon", [
    pytest.param(1e-2, 0.99, 0.0, 0.1, id="impala"),
    pytest.param(1e-5, 0.9, 0.0, 0.1, id="talk_distillation"),
    pytest.param(3e-2, 0.9, 0.9, 1e-10, id="tf1_defaults_with_momentum"),
])
@pytest.mark.parametrize("seed", [0, 1])
def test_matches_numpy_reference_of_tf1_rule(lr, decay, momentum, epsilon, seed):
  params, grads = _problem(seed)
  variables = [tf.Variable(p) for p in params]
  optimizer = optimizers.RMSPropTF1(lr, decay, momentum, epsilon)
  for step in grads:
    optimizer.apply([None if g is None else tf.constant(g) for g in step], variables)
  expected, ms, mom = numpy_tf1_rmsprop(params, grads, lr, decay, momentum, epsilon)
  for actual, want in zip(variables + optimizer.ms + optimizer.mom, expected + ms + mom):
    np.testing.assert_allclose(actual.numpy(), want, rtol=2e-5, atol=1e-7)
  assert not np.allclose(variables[0].numpy(), params[0])  # The steps did move the parameters.


@pytest.mark.parametrize("momentum", [0.0, 0.5])
def test_matches_tf1_optimizer_bit_for_bit(momentum):
  """TF1's RMSPropOptimizer itself (still in tf.compat.v1) gives the same float32 numbers."""
  params, grads = _problem(seed=2)
  ours, theirs = [tf.Variable(p) for p in params], [tf.Variable(p) for p in params]
  optimizer = optimizers.RMSPropTF1(0.01, 0.99, momentum, 0.1)
  tf1 = tf.compat.v1.train.RMSPropOptimizer(0.01, decay=0.99, momentum=momentum, epsilon=0.1)
  for step in grads:
    optimizer.apply([None if g is None else tf.constant(g) for g in step], ours)
    tf1.apply_gradients([(tf.constant(g), v) for g, v in zip(step, theirs) if g is not None])
  for i, (a, b) in enumerate(zip(ours, theirs)):
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(optimizer.ms[i].numpy(), tf1.get_slot(b, "rms").numpy())
    np.testing.assert_array_equal(optimizer.mom[i].numpy(), tf1.get_slot(b, "momentum").numpy())


def test_first_step_differs_from_sonnet_by_the_accumulators_start():
  """Sonnet 2 starts ms at 0, TF1 at 1: with decay 0.99 and epsilon 0.1 a unit gradient moves a
  parameter by lr / sqrt(0.11) under Sonnet and by lr / sqrt(1.1) under TF1, sqrt(10) ~ 3.16x less."""
  lr, decay, epsilon = 1e-3, 0.99, 0.1
  grad = np.array([1.0, -1.0, 0.1, 5.0], np.float32)
  tf1_var, snt_var = tf.Variable(np.zeros(4, np.float32)), tf.Variable(np.zeros(4, np.float32))
  optimizers.RMSPropTF1(lr, decay, 0.0, epsilon).apply([tf.constant(grad)], [tf1_var])
  snt.optimizers.RMSProp(lr, decay, 0.0, epsilon).apply([tf.constant(grad)], [snt_var])
  g = grad.astype(np.float64)
  tf1_step = -lr * g / np.sqrt(decay + (1 - decay) * g**2 + epsilon)
  snt_step = -lr * g / np.sqrt((1 - decay) * g**2 + epsilon)
  np.testing.assert_allclose(tf1_var.numpy(), tf1_step, rtol=1e-6)
  np.testing.assert_allclose(snt_var.numpy(), snt_step, rtol=1e-6)
  np.testing.assert_allclose(snt_var.numpy()[0] / tf1_var.numpy()[0], np.sqrt(10.0), rtol=1e-5)


@pytest.mark.parametrize("jit_compile", [False, True], ids=["tf_function", "xla"])
def test_compiled_apply_matches_eager(jit_compile):
  params, grads = _problem(seed=3)
  grads = [[g if g is not None else np.zeros(s, np.float32) for g, s in zip(step, SHAPES)] for step in grads]
  eager, compiled = [tf.Variable(p) for p in params], [tf.Variable(p) for p in params]
  eager_opt, compiled_opt = (optimizers.RMSPropTF1(0.01, 0.9, 0.5, 0.1) for _ in range(2))

  @tf.function(jit_compile=jit_compile)
  def step(g0, g1):
    compiled_opt.apply([g0, g1], compiled)  # The first trace creates the slots.

  for g0, g1 in grads:
    eager_opt.apply([tf.constant(g0), tf.constant(g1)], eager)
    step(tf.constant(g0), tf.constant(g1))
  for a, b in zip(compiled + compiled_opt.ms + compiled_opt.mom, eager + eager_opt.ms + eager_opt.mom):
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-8)


def test_slots_are_checkpointed_variables(tmp_path):
  params, grads = _problem(seed=4)
  variables = [tf.Variable(p) for p in params]
  optimizer = optimizers.RMSPropTF1(0.01, 0.9, 0.5, 0.1)
  for step in grads:
    optimizer.apply([None if g is None else tf.constant(g) for g in step], variables)
  slots = optimizer.ms + optimizer.mom
  assert {v.ref() for v in slots} <= {v.ref() for v in optimizer.variables}
  assert all(not v.trainable for v in slots)
  path = tf.train.Checkpoint(optimizer=optimizer).write(str(tmp_path / "ckpt"))

  fresh = optimizers.RMSPropTF1(0.01, 0.9, 0.5, 0.1)
  fresh.initialize([tf.Variable(p) for p in params])
  tf.train.Checkpoint(optimizer=fresh).read(path).assert_consumed()
  for restored, saved in zip(fresh.ms + fresh.mom, slots):
    np.testing.assert_array_equal(restored.numpy(), saved.numpy())
  assert not np.all(fresh.ms[0].numpy() == 1.0)


@pytest.mark.parametrize("kind, slot_start, slot_type", [
    ("rmsprop_tf1", 1.0, optimizers.RMSPropTF1), ("rmsprop_snt", 0.0, snt.optimizers.RMSProp)])
def test_create_slots_changes_no_value(kind, slot_start, slot_type):
  params, _ = _problem(seed=5)
  variables = [tf.Variable(p) for p in params]
  optimizer = optimizers.build_rmsprop(kind, 0.01, 0.99, 0.0, 0.1)
  assert isinstance(optimizer, slot_type)
  optimizers.create_slots(optimizer, variables)
  for variable, param, ms, mom in zip(variables, params, optimizer.ms, optimizer.mom):
    np.testing.assert_array_equal(variable.numpy(), param)
    np.testing.assert_array_equal(ms.numpy(), np.full(param.shape, slot_start, np.float32))
    np.testing.assert_array_equal(mom.numpy(), np.zeros(param.shape, np.float32))


def test_bad_calls_are_refused():
  a, b = tf.Variable(np.ones(3, np.float32)), tf.Variable(np.ones(2, np.float32))
  optimizer = optimizers.RMSPropTF1(0.1)
  with pytest.raises(ValueError, match="as many updates as parameters"):
    optimizer.apply([tf.ones(3)], [a, b])
  with pytest.raises(ValueError, match="update dtype float64"):
    optimizer.apply([tf.ones(3, tf.float64)], [a])
  with pytest.raises(ValueError, match="differ from those of the first call"):
    optimizer.apply([tf.ones(2)], [b])
  with pytest.raises(ValueError, match="Unknown optimizer 'adam'"):
    optimizers.build_rmsprop("adam", 0.1)
