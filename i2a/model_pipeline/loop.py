"""The environment-model training loop: data -> Adam updates -> held-out metrics -> checkpoints ->
export (paper Sec. 3.2: the model is pretrained, then frozen in I2A).

    python -m launch.train_env_model --data=<launch.collect output> --logdir=<run>   # Calls this.

The logdir is locked while a run uses it. SIGINT/SIGTERM save a checkpoint and return early (no
export: rerun to finish). A data shard that cannot be read stops the run with its name, or is skipped
and counted if asked; the input pipeline never raises inside its threads (that left the process hanging
at exit in some runs).
"""
import dataclasses
import json
import os
import time
from typing import Optional

from absl import logging
import numpy as np
import sonnet as snt
import tensorflow as tf

from i2a import factory
from i2a.model_pipeline import data as model_data
from i2a.model_pipeline import event_metrics
from i2a.model_pipeline import event_thresholds
from i2a.model_pipeline import export
from i2a.model_pipeline import metrics as metrics_lib
from i2a.model_pipeline import pictures
from i2a.model_pipeline import streaming
from i2a.model_pipeline import training as model_training
from i2a.training import checkpointing
from i2a.training import env_model_metadata
from i2a.training import interrupt
from i2a.training import rundir
from i2a.training import summaries

EVENT_METRICS_FILE = "event_metrics.json"  # The per-event report of a MiniPacman model (issue 23).


def train_env_model(config: model_training.EnvModelTrainConfig, data_dir: str, logdir: str,
                    model_kind: str = "learned", frame_head: str = "palette", predict_reward: bool = True,
                    model: Optional[snt.Module] = None, skip_bad_shards: bool = False,
                    model_size: str = "good",
                    stop: Optional[interrupt.StopRequest] = None,
                    calibration_dir: Optional[str] = None) -> dict:
  """Trains (or resumes training) up to `config.steps` updates, then exports the model.

  Args:
    config: hyper-parameters.
    data_dir: a launch.collect data directory.
    logdir: where summaries, checkpoints and the export go.
    model_kind, frame_head, predict_reward, model_size: which model (recorded in the metadata);
      model_size 'poor' is the weak Sokoban model of paper Fig. 5.
    model: a model to train instead of the one `factory.build_env_model` builds for the metadata (tests
      pass tiny ones); it must be of the kind the metadata names.
    skip_bad_shards: train without shards that cannot be read (each named in a warning, counted in
      the result as 'bad_shards') instead of stopping at the first.
    stop: a StopRequest to use instead of catching SIGINT/SIGTERM here.
    calibration_dir: MiniPacman: a separate launch.collect directory on which the per-event decision
      thresholds are chosen before the held-out report (`event_thresholds`); they are stored in the
      export's metadata. None: 0.5 for every event.

  Returns:
    The last evaluation's metrics (empty without held-out shards) plus 'step', 'export' (None if
    stopped early), 'copy_baseline', 'bad_shards' and 'stopped_by' (the signal, or None).

  Raises:
    ValueError: unusable data (a shard that cannot be read, naming it, unless skipped) or a logdir
      holding another model; rundir.RunDirectoryError: the logdir is in use or not writable.
  """
  rundir.check_writable(logdir)
  with rundir.DirectoryLock(logdir, "logdir"):
    rundir.check_writable(os.path.join(logdir, "checkpoints"))
    return _train_locked(config, data_dir, logdir, model_kind, frame_head, predict_reward, model,
                         skip_bad_shards, model_size, stop or interrupt.StopRequest(), calibration_dir)


def _train_locked(config, data_dir, logdir, model_kind, frame_head, predict_reward, model,
                  skip_bad_shards, model_size, stop, calibration_dir) -> dict:
  tf.random.set_seed(config.seed)
  manifest = model_data.read_manifest(data_dir)
  if calibration_dir is not None:  # Checked before training, not after it.
    event_thresholds.check_calibration_data(calibration_dir, data_dir)
  train_names, eval_names = model_data.split_shards(manifest, config.eval_fraction)
  bad_shards = streaming.unreadable_shards(data_dir, train_names + eval_names)
  if bad_shards and not skip_bad_shards:
    raise ValueError(f"{len(bad_shards)} data shard(s) cannot be read: {'; '.join(bad_shards.values())}. "
                     "Recollect them, or train without them (skip_bad_shards / --skip_bad_shards).")
  for message in bad_shards.values():
    logging.warning("Skipping a bad shard: %s", message)
  train_names = [n for n in train_names if n not in bad_shards]
  eval_names = [n for n in eval_names if n not in bad_shards]
  metadata = export.model_metadata(model_kind, manifest, frame_head, predict_reward, model_size)
  if model is None:
    agent_config = env_model_metadata.agent_config_for(metadata)
    game_palette = agent_config.game_spec().palette
    if np.asarray(manifest["palette"]).shape != game_palette.shape or not np.array_equal(
        manifest["palette"], game_palette):
      raise ValueError(f"The data in {data_dir!r} has the palette {manifest['palette']}, but "
                       f"{manifest['game']} now has {game_palette.tolist()}: recollect the data.")
    model = factory.build_env_model(agent_config)
  ckpt_dir = os.path.join(logdir, "checkpoints")
  if os.path.exists(os.path.join(ckpt_dir, env_model_metadata.METADATA_FILE)):
    old = dict(env_model_metadata.load_metadata(ckpt_dir))
    old.setdefault("model_size", "good")  # Written before the poor model existed.
    changed = [k for k in metadata if old.get(k) != json.loads(json.dumps(metadata[k]))]
    if changed:
      raise ValueError(f"{logdir!r} holds a model with other {changed}; use another --logdir.")
  trainer = model_training.EnvModelTrainer(model, config)
  stream_errors = {}  # Shards that fail while streaming (damage their zip directory does not show).
  batches = iter(streaming.transitions_dataset(data_dir, train_names, config.batch_size, config.seed,
                                                config.shuffle_buffer, errors=stream_errors,
                                                rare_reward_repeats=config.rare_reward_repeats,
                                                event_repeats=config.event_repeats))

  def next_batch():
    batch = next(batches)
    new = {n: m for n, m in stream_errors.items() if n not in bad_shards}
    if new and not skip_bad_shards:
      raise ValueError(f"A data shard cannot be read: {'; '.join(new.values())}. Recollect it, or train "
                       "without it (skip_bad_shards / --skip_bad_shards).")
    for name, message in new.items():
      logging.warning("Skipping a bad shard: %s", message)
      bad_shards[name] = message
    return batch

  trainer.build(next_batch())
  checkpointer = checkpointing.Checkpointer(ckpt_dir, 3, **trainer.trackables())
  if checkpointer.restore_latest(repair=True):
    logging.info("Resumed from %s at step %d.", checkpointer.latest_path, int(trainer.step.numpy()))
  export.write_metadata(ckpt_dir, metadata)
  eval_data = None
  if eval_names:
    eval_data = model_data.held_out_data(data_dir, eval_names, config.eval_transitions,
                                             config.eval_windows, config.rollout_depth)
  writer = tf.summary.create_file_writer(logdir)
  baseline = metrics_lib.copy_baseline(eval_data) if eval_data is not None else {}
  if baseline:
    logging.info("copy-model baseline on held-out data: %s",
                 json.dumps({k: round(v, 4) for k, v in baseline.items()}))
  step, metrics, image, start = int(trainer.step.numpy()), {}, None, time.monotonic()
  start_step = step
  with stop:
    while step < config.steps and not stop.requested:
      logs = trainer.update(next_batch())
      step += 1
      done = step >= config.steps or stop.requested
      if step % config.log_every == 0 or done:
        rate = (step - start_step) / max(time.monotonic() - start, 1e-9)
        logging.info("step %d/%d | loss %.3f (frame %.3f, reward %.3f) | %.1f steps/s", step, config.steps,
                     logs["loss"], logs["frame_loss"], logs["reward_loss"], rate)
        summaries.write_scalars(writer, {f"train/{k}": v for k, v in logs.items()}, step)
      if eval_data is not None and (step % config.eval_every == 0 or done) and not stop.requested:
        metrics, image = metrics_lib.evaluate(model, eval_data, manifest["game"])
        logging.info("eval at step %d: %s", step, json.dumps({k: round(v, 4) for k, v in metrics.items()}))
        summaries.write_scalars(writer, {f"eval/{k}": v for k, v in metrics.items()}, step)
        if image is not None:
          pictures.image_summary(writer, "eval/imagination", image, step)
      if step % config.checkpoint_every == 0 or done:
        checkpointer.save(step)
    if stop.requested:  # A signal after this step's `done` was computed: save the step all the same.
      checkpointer.save(step)
  writer.close()
  del batches  # Stops the input pipeline's threads before anything else happens.
  common = dict(step=step, copy_baseline=baseline, bad_shards=len(bad_shards), stopped_by=stop.signal_name)
  if stop.requested:
    logging.warning("Stopped by %s at step %d; saved %s. Rerun with the same logdir to finish.",
                    stop.signal_name, step, checkpointer.latest_path)
    return dict(metrics, export=None, **common)
  if eval_data is not None and not metrics:  # Resumed a finished run: evaluate what is exported.
    metrics, image = metrics_lib.evaluate(model, eval_data, manifest["game"])
  if eval_data is not None and image is not None:
    pictures.save_png(image, os.path.join(logdir, "imagination.png"))
  events = None
  if eval_names and manifest["game"] == "minipacman":  # Every event, one step and k-step (issue 23).
    events = event_report(model, data_dir, eval_names, config, logdir, calibration_dir)
  export_prefix = export.export_model(model, logdir, dict(
      metadata, steps=step, data=os.path.abspath(data_dir), train_config=dataclasses.asdict(config),
      eval_metrics=metrics, copy_baseline=baseline, bad_shards=sorted(bad_shards),
      **({} if events is None else dict(event_gate=events["gate"],
                                        **event_thresholds.metadata_entries(events)))))
  return dict(metrics, export=export_prefix, **common, **({} if events is None else dict(events=events)))


def event_report(model: snt.Module, data_dir: str, eval_names, config: model_training.EnvModelTrainConfig,
                 logdir: str, calibration_dir: Optional[str] = None) -> dict:
  """`event_metrics.event_report` on the held-out shards, at thresholds chosen on `calibration_dir` (or
  0.5), logged as tables and written to <logdir>/event_metrics.json."""
  thresholds, calibration = None, None
  if calibration_dir is not None:
    thresholds, calibration = event_thresholds.calibrate(model, calibration_dir, config.event_eval_pairs)
    logging.info("Per-event thresholds chosen on %d pairs of %s: %s", calibration["num_pairs"],
                 calibration_dir, np.round(thresholds, 4).tolist())
  pairs, windows = event_metrics.held_out(data_dir, eval_names, config.event_eval_pairs,
                                          config.event_eval_windows, config.rollout_depth)
  report = dict(event_metrics.event_report(model, pairs, windows, thresholds=thresholds), calibration=calibration)
  rundir.atomic_write(os.path.join(logdir, EVENT_METRICS_FILE), json.dumps(report, indent=1).encode())
  logging.info("Per-event precision / recall on %d held-out pairs and %d windows (gate %s: %s):\n%s",
               report["num_pairs"], report.get("num_windows", 0), report["gate"]["level"],
               "passed" if report["gate"]["passed"] else "failing " + ", ".join(report["gate"]["failing"]),
               event_metrics.format_table(report))
  if calibration is not None:
    logging.info("At the chosen thresholds:\n%s", event_metrics.format_table(report, at_thresholds=True))
  return report
