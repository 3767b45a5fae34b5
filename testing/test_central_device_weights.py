"""The central server's weights (i2a/training/central/device_weights.py): staged by the learner, swapped
in by the server before a batch, never mixed across learner steps."""
import threading

import numpy as np
import pytest
import tensorflow as tf

from i2a.training.central import device_weights


def _variables(shapes=((3, 4), (4,), (2, 2, 5)), dtype=tf.float32):
  return [tf.Variable(tf.zeros(s, dtype)) for s in shapes]


def test_staged_weights_act_only_after_swap():
  acting = _variables()
  weights = device_weights.DeviceWeights(acting)
  rng = np.random.default_rng(0)
  values = [rng.normal(size=v.shape).astype(np.float32) for v in acting]
  assert weights.swap() == -1 and weights.step == -1
  weights.publish(values, 7)
  assert weights.staged_step == 7 and weights.lag_behind() == 7 + 1
  for variable in acting:  # Not yet: a batch in flight keeps its weights.
    np.testing.assert_array_equal(variable.numpy(), 0.0)
  assert weights.swap() == 7 and weights.lag_behind() == 0
  for variable, value in zip(acting, values):
    np.testing.assert_array_equal(variable.numpy(), value)


def test_the_learners_variables_are_copied_not_shared():
  """Given the learner's own tf.Variables, the server acts with a copy: a later learner update does not
  reach the acting set until it is published and swapped in."""
  learner = [tf.Variable(tf.fill(v.shape, 2.0)) for v in _variables()]
  acting = _variables()
  weights = device_weights.DeviceWeights(acting)
  weights.publish(learner, 1)
  weights.swap()
  for variable in learner:
    variable.assign_add(tf.ones_like(variable))  # The learner's next step.
  for variable in acting:
    np.testing.assert_array_equal(variable.numpy(), 2.0)
  weights.publish(learner, 2)
  assert weights.lag_behind() == 1
  weights.swap()
  for variable in acting:
    np.testing.assert_array_equal(variable.numpy(), 3.0)


def test_publish_refuses_another_agents_weights():
  weights = device_weights.DeviceWeights(_variables())
  with pytest.raises(ValueError, match="2 weights for 3 variables"):
    weights.publish([np.zeros((3, 4)), np.zeros(4)], 0)
  with pytest.raises(ValueError, match="shape"):
    weights.publish([np.zeros((3, 4)), np.zeros(5), np.zeros((2, 2, 5))], 0)


def test_a_batch_never_acts_with_two_steps_weights():
  """A publisher thread stages step k as every weight = k while the server swaps and reads: every read
  sees one step's weights in every variable, and the steps it sees never go back."""
  acting = _variables(shapes=[(64, 64)] * 6)
  weights = device_weights.DeviceWeights(acting)
  weights.publish([np.zeros((64, 64), np.float32)] * 6, 0)
  stop = threading.Event()

  def learner():
    for step in range(1, 300):
      weights.publish([np.full((64, 64), step, np.float32)] * 6, step)
    stop.set()

  thread = threading.Thread(target=learner)
  thread.start()
  seen = []
  while not stop.is_set() or weights.lag_behind():
    step = weights.swap()
    values = {float(v) for variable in acting for v in np.unique(variable.numpy())}
    assert values == {float(step)}, (step, values)
    seen.append(step)
  thread.join()
  assert seen[-1] == 299 and seen == sorted(seen)
