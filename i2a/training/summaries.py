"""TensorBoard scalars without the tensorboard package: tf.summary.scalar needs it, so the same tensor
summaries are written with the 'scalars' plugin tag, which TensorBoard reads as scalars."""
import tensorflow as tf

_SCALAR_METADATA = tf.compat.v1.SummaryMetadata(
    plugin_data=tf.compat.v1.SummaryMetadata.PluginData(plugin_name="scalars"))


def write_scalars(writer: tf.summary.SummaryWriter, scalars: dict, step: int) -> None:
  """Writes each float of `scalars` under its name at `step`, then flushes."""
  with writer.as_default():
    for name, value in scalars.items():
      tf.summary.write(name, tf.constant(value, tf.float32), step=step, metadata=_SCALAR_METADATA)
  writer.flush()
