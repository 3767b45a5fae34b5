r"""Draws what a trained environment model imagines from a real state: a PNG grid and an animated GIF.

  python -m launch.imagine --game=minipacman \
      --env_model_checkpoint=runs/env_model_minipacman --output_dir=/tmp/imagine --depth=5
  python -m launch.imagine --flagfile=launch/configs/pipeline_minipacman_1_agent.flags \
      --agent_checkpoint=runs/pipeline_minipacman_agent --env_model_checkpoint=... --output_dir=/tmp/imagine

Rows: the real frames of a real rollout (the agent's, or uniformly random actions), then one row per
first action with the frames the model imagines after it (paper Sec. 3.1: one rollout per action). The
later imagined actions are the rollout policy's (an I2A agent's distilled policy, a model-free agent's
own policy) or, without an agent, the real rollout's actions, so the row marked '*' replays the real
actions open-loop and can be compared frame by frame with the real row. The game, environment and
agent flags are those of a training run (launch/config_flags.py); the model's game and frame size come
from its metadata.
"""
import os

from absl import app
from absl import flags
from absl import logging

from i2a import games
from i2a.model_pipeline import event_pictures
from i2a.model_pipeline import event_thresholds
from i2a.model_pipeline import export
from i2a.model_pipeline import hunter
from i2a.model_pipeline import real_vs_imagined
from i2a.model_pipeline import metrics
from i2a.training import checkpointing
from i2a.training import env_model_metadata
from i2a.training import environments
from i2a.training import inference
from launch import common_flags
from launch import config_flags
from launch import flags_to_config

config_flags.define()
common_flags.define("agent_checkpoint", "output_dir")
flags.DEFINE_integer("depth", 5, "Imagined steps per rollout (I2A's canonical depth is 5).", lower_bound=1)
flags.DEFINE_integer("start_steps", 10, "Real steps played before the start state.", lower_bound=0)
flags.DEFINE_integer("scale", 0, "Pixel enlargement; 0 picks one making frames >= 96 pixels.",
                     lower_bound=0)
flags.DEFINE_integer("gif_ms", 600, "Milliseconds per GIF frame.", lower_bound=10)
flags.DEFINE_bool("ghost_picture", False, "MiniPacman: also draw a rollout in which a ghost is eaten "
                  "(found by the scripted hunter's play), real beside imagined with the events under each "
                  "frame (those above the model's stored per-event thresholds; 0.5 for older models), as "
                  "<output_dir>/ghost_eaten.png (i2a/model_pipeline/event_pictures.py).")


def run_with_flags(fv: flags.FlagValues) -> dict:
  """The binary's work, from parsed flags; returns `real_vs_imagined.write_pictures`'s result.

  Raises:
    app.UsageError: bad flags or a model that does not fit the game.
  """
  agent, seed = None, 0 if fv.seed is None else fv.seed
  try:
    if not fv.env_model_checkpoint or not fv.output_dir:
      raise ValueError("--env_model_checkpoint and --output_dir are required.")
    metadata = env_model_metadata.load_metadata(fv.env_model_checkpoint)
    if fv["game"].present and fv.game != metadata["game"]:
      raise ValueError(f"--game={fv.game} but the model {fv.env_model_checkpoint!r} was trained for "
                       f"{metadata['game']}.")
    if fv.agent_checkpoint:
      # Here --env_model_checkpoint names the model to draw with, so a model-free agent may take one.
      config = flags_to_config.stored_train_config(  # The agent's run config, as launch.train stored it.
          fv, flags_to_config.logdir_of_checkpoint(fv.agent_checkpoint), model_free_may_name_env_model=True)
      geometry, env_config = config.geometry, config.env
      agent = inference.restore_agent(config.agent, fv.agent_checkpoint, seed=seed,
                                      discount=config.learner.discount).agent
    else:
      geometry = games.Geometry(
          metadata["game"], task=fv.task,
          room_size=metadata["room_size"] or fv.room_size,
          pixels_per_cell=metadata["pixels_per_cell"] or fv.pixels_per_cell)
      env_config = environments.EnvConfig(num_boxes=fv.num_boxes, max_steps=fv.max_steps, levels=fv.levels)
    model = export.load_model(fv.env_model_checkpoint, geometry)
    thresholds = event_thresholds.from_metadata(metadata)  # The model's own (0.5 for older exports).
    if fv.ghost_picture and geometry.game != "minipacman":
      raise ValueError(f"--ghost_picture draws MiniPacman's eaten ghosts; this model is of {geometry.game}.")
  except (ValueError, checkpointing.CheckpointError) as e:
    raise app.UsageError(str(e)) from e
  env = environments.build_env(geometry, env_config, 1, seed=seed)
  if agent is None:
    policy, rollout_policy = inference.UniformActions(env.num_actions, seed), None
  else:
    policy, rollout_policy = real_vs_imagined.agent_policies(agent, env.num_actions)
  result = real_vs_imagined.write_pictures(model, env, policy, rollout_policy, fv.depth, fv.output_dir,
                                      metrics.ACTION_NAMES[geometry.game], fv.start_steps, fv.scale,
                                      fv.gif_ms, seed)
  logging.info("Wrote %s and %s (%dx%d pixels).", result["png"], result["gif"], *result["size"])
  if fv.ghost_picture:
    window = event_pictures.find_event_window(environments.build_env(geometry, env_config, 1, seed=seed),
                                              hunter.GhostHunter(seed), "ate_ghost", fv.depth)
    result["ghost_png"] = os.path.join(fv.output_dir, "ghost_eaten.png")
    event_pictures.event_picture(model, window, scale=fv.scale or 8, thresholds=thresholds).save(
        result["ghost_png"])
    logging.info("Wrote %s.", result["ghost_png"])
  return result


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  run_with_flags(flags.FLAGS)


if __name__ == "__main__":
  common_flags.run_main(main)
