"""Sonnet layers whose variables stay float32 while they compute in the dtype of their input.

Sonnet 2 creates a layer's variables in the dtype of its first input and never casts them, so a layer
first called with bfloat16 would hold bfloat16 weights (and checkpoints would depend on the precision),
and a float32 layer called with bfloat16 inputs fails. These subclasses of `snt.Linear`, `snt.Conv2D`
and `snt.Conv2DTranspose` always create float32 variables and cast them to the input's dtype at use:

    conv = layers.Conv2D(16, 3)
    conv(tf.cast(frames, tf.bfloat16))  # bfloat16 [B, H, W, 16]; conv.w is float32.

With float32 inputs they are exactly Sonnet's layers (the casts are no-ops), and their checkpoints are
the same in every precision. The gradient of a cast is the cast back, so optimisers see float32
gradients of the float32 variables (mixed precision in the usual sense).

`precision` names used across the library: 'float32'; 'bfloat16' (CPUs with AMX / avx512_bf16 run it
about 4x faster than float32 through oneDNN, and TPUs / recent GPUs natively); 'float16' (GPUs).
"""
import sonnet as snt
import tensorflow as tf

PRECISIONS = ("float32", "bfloat16", "float16")


def compute_dtype(precision: str) -> tf.DType:
  """The tf.DType of a precision name; ValueError naming the choices for an unknown one."""
  if precision not in PRECISIONS:
    raise ValueError(f"Unknown precision {precision!r}; expected one of {PRECISIONS}.")
  return tf.as_dtype(precision)


def _float32_spec(inputs: tf.Tensor) -> tf.TensorSpec:
  """What Sonnet's `_initialize` reads of its input (shape, dtype), with the dtype forced to float32."""
  return tf.TensorSpec(inputs.shape, tf.float32)


def _concat(a, b):
  """Concatenates two shape lists, as a tensor if either is one (Sonnet's `smart_concat`)."""
  if isinstance(a, tf.Tensor) or isinstance(b, tf.Tensor):
    return tf.concat([a, b], axis=0)
  return list(a) + list(b)


class Linear(snt.Linear):
  """`snt.Linear` with float32 variables, computing in its input's dtype."""

  def __call__(self, inputs: tf.Tensor) -> tf.Tensor:
    """float [..., input_size] -> [..., output_size], same dtype as `inputs`."""
    self._initialize(_float32_spec(inputs))
    outputs = tf.matmul(inputs, tf.cast(self.w, inputs.dtype))
    if self.with_bias:
      outputs = tf.add(outputs, tf.cast(self.b, inputs.dtype))
    return outputs


class Conv2D(snt.Conv2D):
  """`snt.Conv2D` with float32 variables, computing in its input's dtype."""

  def __call__(self, inputs: tf.Tensor) -> tf.Tensor:
    """float [B, H, W, C] -> [B, H', W', output_channels], same dtype as `inputs`."""
    self._initialize(_float32_spec(inputs))
    if self.padding_func:
      inputs = tf.pad(inputs, self._padding)
    outputs = tf.nn.convolution(inputs, tf.cast(self.w, inputs.dtype), strides=self.stride,
                                padding=self.conv_padding, dilations=self.rate, data_format=self.data_format)
    if self.with_bias:
      outputs = tf.nn.bias_add(outputs, tf.cast(self.b, inputs.dtype), data_format=self.data_format)
    return outputs


class Conv2DTranspose(snt.Conv2DTranspose):
  """`snt.Conv2DTranspose` with float32 variables, computing in its input's dtype."""

  def __call__(self, inputs: tf.Tensor) -> tf.Tensor:
    """float [B, H, W, C] -> [B, H', W', output_channels], same dtype as `inputs`."""
    self._initialize(_float32_spec(inputs))
    output_shape = self._output_shape
    if output_shape is None:  # As Sonnet's: inferred from the input's spatial size (channels last/first).
      spatial = self._get_output_shape(inputs)
      channels = [self._output_channels]
      output_shape = _concat(channels, spatial) if self._channel_index == 1 else _concat(spatial, channels)
    output_shape = _concat([tf.shape(inputs)[0]], output_shape)
    outputs = tf.nn.conv_transpose(input=inputs, filters=tf.cast(self.w, inputs.dtype),
                                   output_shape=output_shape, strides=self._stride, padding=self._padding,
                                   data_format=self._data_format, dilations=self._rate)
    if self._with_bias:
      outputs = tf.nn.bias_add(outputs, tf.cast(self.b, inputs.dtype), data_format=self._data_format)
    return outputs


def floating_input(tensor) -> tf.Tensor:
  """`tensor` as a tensor that keeps a floating compute dtype (float32, bfloat16, float16) and casts
  anything else (NumPy float64 arrays, integers) to float32."""
  tensor = tf.convert_to_tensor(tensor)
  return tensor if tensor.dtype in (tf.float32, tf.bfloat16, tf.float16) else tf.cast(tensor, tf.float32)


class LSTM(snt.LSTM):
  """`snt.LSTM` with float32 variables and state whose input projection can run in a lower precision.

  `__call__` is Sonnet's LSTM step. `input_gates` and `step_from_gates` split it in two, so the input
  projection of a whole sequence runs as one matrix product in the input's dtype (the bulk of an I2A
  rollout encoder's cost) while the recurrence, the gates' nonlinearities and the cell state stay
  float32. With float32 inputs the split computes exactly what Sonnet's step computes.
  """

  def input_gates(self, inputs: tf.Tensor) -> tf.Tensor:
    """float [B, input_size] -> float32 [B, 4 * hidden_size], inputs @ w_i in the inputs' dtype."""
    self._initialize(_float32_spec(inputs))
    return tf.cast(tf.matmul(inputs, tf.cast(self._w_i, inputs.dtype)), tf.float32)

  def step_from_gates(self, input_gates: tf.Tensor, prev_state: snt.LSTMState
                      ) -> tuple[tf.Tensor, snt.LSTMState]:
    """One float32 step given `input_gates(inputs)`: returns (output [B, hidden], next LSTMState)."""
    if self.projection is not None:
      raise NotImplementedError("layers.LSTM does not support projection_size.")
    gates = input_gates + tf.matmul(prev_state.hidden, self._w_h) + self.b
    i, f, g, o = tf.split(gates, num_or_size_splits=4, axis=1)  # Input, forget, cell update, output.
    next_cell = tf.sigmoid(f) * prev_state.cell
    next_cell += tf.sigmoid(i) * tf.tanh(g)
    next_hidden = tf.sigmoid(o) * tf.tanh(next_cell)
    return next_hidden, snt.LSTMState(hidden=next_hidden, cell=next_cell)

  def __call__(self, inputs: tf.Tensor, prev_state: snt.LSTMState) -> tuple[tf.Tensor, snt.LSTMState]:
    """float [B, input_size], float32 LSTMState -> (float32 output [B, hidden], next LSTMState)."""
    return self.step_from_gates(self.input_gates(inputs), prev_state)
