r"""The talk notebook's "putting it all together": its demo I2A agent plays one MiniPacman episode and
distils its rollout policy after every frame.

  python -m launch.talk_demo --output_dir=/tmp/talk_demo [--seed=0] [--env_model=copy|conv]
  python -m launch.talk_demo --output_dir=/tmp/talk_demo \
      --env_model_checkpoint=models/minipacman/env_model/env_model

The agent is `i2a.talk_config()`'s: frame stack 4, rollout depth 3, CopyModel(3) (or, with
--env_model=conv, the talk's SizePreservingConvNetModel with reward bins (-1, 0, 1), untrained as in the
notebook), FrameProcessing(128) as the model-free path, SingleImagFeature(128), RolloutPolicy(5, 128),
LSTM(256) and the value/logits Linear straight off the concatenation; batch 1, as in the notebook. The
episode is MiniPacman 'regular' with the notebook's frame cap of 39 steps. After every frame, one
distillation step (talk, distillation slide: TF1's RMSPropOptimizer, learning rate 1e-5, epsilon 0.1)
moves the rollout policy towards the agent's policy on that frame.

With --env_model_checkpoint the same agent imagines with a trained MiniPacman environment model
(the paper's, Fig. 7, with its event head; models/MODELS.md ships one), loaded frozen as a training run
loads it (the metadata check, then `checkpointing.load_env_model`); everything else is the talk's.
That model reads only the newest frame of the 4-frame stack: one frame, as in its training.

Writes <out>/talk_demo.png (every observed frame, the first included, 10 per row) and
<out>/talk_demo.txt (one line per step: action, reward, distillation loss before that step's update),
and prints the trainable parameter count (910,987) and the lines. With --env_model_checkpoint, also
<out>/talk_demo_imagined.png: the real frames from the first frame on, then the agent's rollout after
each first action (depth 3) as it imagined them to choose its first action; '*' marks the action taken.
"""
import os
from typing import NamedTuple, Optional

from absl import app
from absl import flags
import numpy as np
import tensorflow as tf

from envs import minipacman
import i2a
from i2a import agent_core
from i2a import imagined
from i2a.model_pipeline import pictures
from i2a import optimizers
from i2a.profiling import model_cost
from i2a.training import checkpointing
from i2a.training import env_model_metadata
from launch import common_flags
from launch import config_flags

FRAME_CAP = 39  # The notebook's episode length.
LEARNING_RATE = 1e-5  # The notebook's distillation learning rate.
EPSILON = 0.1  # The talk's distillation slide: RMSPropOptimizer(learning_rate, epsilon=0.1).
FRAMES_PER_ROW = 10
IMAGINED_PNG = "talk_demo_imagined.png"


config_flags.define("seed", "env_model", "env_model_checkpoint")
common_flags.define("output_dir", "frame_cap")  # --frame_cap default: FRAME_CAP.


class Step(NamedTuple):
  """One step of the demo: the action taken, the reward received, the distillation loss on the frame."""
  action: int
  reward: float
  distillation_loss: float


class Episode(NamedTuple):
  """What `play` returns.

  Attributes:
    frames: uint8 [T + 1, 15, 19, 3], the first frame and one per step.
    steps: the T steps.
    first_imagination: what the agent imagined on the first frame to choose its first action (frames
      float32 [1, 5, 3, 15, 19, 3], rewards [1, 5, 3], actions int32 [1, 5, 3]); None if T is 0.
  """
  frames: np.ndarray
  steps: list[Step]
  first_imagination: Optional[imagined.Imagination]


def build(seed: int, env_model: str, env_model_checkpoint: Optional[str] = None
          ) -> tuple[i2a.I2AAgent, optimizers.RMSPropTF1]:
  """The demo agent (variables created) and its distillation optimizer (slots created).

  Args:
    seed: seeds the initial weights and the agent's and rollout policy's sampling.
    env_model: 'copy' or 'conv' (the talk's), or 'learned' (the paper's MiniPacman model).
    env_model_checkpoint: the trained model of 'learned' (a checkpoint prefix or its directory); given
      exactly when env_model is 'learned'.

  Raises:
    ValueError: a checkpoint with 'copy' or 'conv', 'learned' without one, or a model that does not fit
      the agent (no env_model.json beside it, another game, frame size or frame head).
    checkpointing.CheckpointError: its weights cannot be read or do not fit.
  """
  config = i2a.talk_config(env_model, seed=seed)
  if (env_model == "learned") != (env_model_checkpoint is not None):
    raise ValueError("A trained environment model (env_model_checkpoint) goes with env_model 'learned', "
                     f"and only with it; got env_model {env_model!r} and checkpoint {env_model_checkpoint!r}.")
  if env_model_checkpoint is not None:
    # As a training run loads it (i2a/training/loop.py: build_learner): refuse another game's model first.
    env_model_metadata.check_checkpoint_compatible(env_model_checkpoint, config)
  tf.random.set_seed(seed)  # Initial weights.
  agent = i2a.build_agent(config)
  agent_core.build_variables(agent)
  if env_model_checkpoint is not None:
    checkpointing.load_env_model(agent.env_model, env_model_checkpoint)  # Frozen: never in the gradients.
  # tf.train.RMSPropOptimizer's defaults besides the slide's epsilon: decay 0.9, momentum 0.
  optimizer = optimizers.RMSPropTF1(LEARNING_RATE, decay=0.9, momentum=0.0, epsilon=EPSILON)
  optimizers.create_slots(optimizer, agent.trainable_variables)
  return agent, optimizer


def make_step_fn(agent: i2a.I2AAgent, optimizer: optimizers.RMSPropTF1):
  """`step(frame float32 [1, H, W, 3], state) -> (action int32 [1], loss float32 [], next_state,
  imagination)`, the imagination being what the agent imagined to act (`I2AAgent.step`).

  Acts, then distils on the same frame: cross-entropy of the rollout policy's logits against
  stop_gradient(softmax(policy logits)) (talk, distillation slide). Like TF1's `minimize(distill_loss)`,
  the gradient is taken with respect to every trainable variable; the stop_gradient on the labels is
  what leaves all but the rollout policy's gradients None, so only the rollout policy moves.
  """
  variables = agent.trainable_variables

  @tf.function(autograph=False)
  def step(frame, state):
    with tf.GradientTape() as tape:
      (action, policy_logits, _), next_state, imagination = agent.step(frame, state)
      _, rollout_logits = agent.rollout_policy(frame)
      loss = tf.reduce_sum(i2a.distillation_loss(rollout_logits, policy_logits).loss)  # Batch 1.
    optimizer.apply(tape.gradient(loss, variables), variables)
    return action, loss, next_state, imagination

  return step


def play(agent: i2a.I2AAgent, optimizer: optimizers.RMSPropTF1, seed: int,
         frame_cap: int = FRAME_CAP) -> Episode:
  """One MiniPacman 'regular' episode of at most `frame_cap` steps, a distillation step per frame."""
  env = minipacman.MiniPacman(task="regular", seed=seed, frame_cap=frame_cap)
  step_fn = make_step_fn(agent, optimizer)
  timestep = env.reset()
  state = agent.initial_state()  # Batch 1, as the notebook calls it.
  frames, steps, first_imagination = [timestep.observation["rgb"]], [], None
  while not timestep.last() and len(steps) < frame_cap:
    frame = tf.constant(timestep.observation["rgb"][np.newaxis], tf.float32) / 255.0
    action, loss, state, imagination = step_fn(frame, state)
    if first_imagination is None:
      first_imagination = imagination
    action = int(action.numpy()[0])  # [B] here; the talk's agent returns [B, 1].
    timestep = env.step(action)
    frames.append(timestep.observation["rgb"])
    steps.append(Step(action, float(timestep.reward), float(loss.numpy())))
  return Episode(np.stack(frames), steps, first_imagination)


def step_lines(steps: list[Step]) -> list[str]:
  names = minipacman.ACTION_NAMES
  return [f"step {t + 1:3d}  action {s.action} ({names[s.action]:<5})  reward {s.reward:+5.1f}  "
          f"distillation loss {s.distillation_loss:.6f}" for t, s in enumerate(steps)]


def frame_grid(frames: np.ndarray):
  """The frames as a PIL image, FRAMES_PER_ROW per row, each row labelled with its first step."""
  rows = [frames[i:i + FRAMES_PER_ROW] for i in range(0, len(frames), FRAMES_PER_ROW)]
  labels = [f"t={i}" for i in range(0, len(frames), FRAMES_PER_ROW)]
  return pictures.grid_image(rows, labels, pictures.upscale_factor(*frames.shape[1:3]), FRAMES_PER_ROW)


def imagined_grid(episode: Episode):
  """The first frame's imagination as a PIL image: the row 'real' holds the real first frame and the
  `depth` frames that followed, each action's row the real first frame and that rollout's imagined
  frames (the first action fixed, the later ones the rollout policy's; paper Sec. 3.1)."""
  imagined_frames = episode.first_imagination.frames[0].numpy()  # [A, D, H, W, 3] in [0, 1].
  depth = imagined_frames.shape[1]
  rows, labels = pictures.imagination_rows(episode.frames[:depth + 1], imagined_frames,
                                           episode.steps[0].action, minipacman.ACTION_NAMES)
  return pictures.grid_image(rows, labels, pictures.upscale_factor(*episode.frames.shape[1:3]), depth + 1)


def run(out: str, seed: int = 0, env_model: str = "copy", frame_cap: int = FRAME_CAP,
        env_model_checkpoint: Optional[str] = None) -> dict:
  """Builds the demo agent, plays the episode, writes the PNG and the text (and with a trained model
  the imagined rollouts' PNG); returns what it wrote. Arguments and errors: `build`."""
  agent, optimizer = build(seed, env_model, env_model_checkpoint)
  num_parameters = model_cost.num_parameters(agent.trainable_variables)
  trained = "" if env_model_checkpoint is None else f", checkpoint {env_model_checkpoint}"
  print(f"Talk demo agent (env model {env_model!r}{trained}): {num_parameters:,} trainable parameters "
        f"(rollout policy included, environment model excluded).", flush=True)
  episode = play(agent, optimizer, seed, frame_cap)
  frames, steps = episode.frames, episode.steps
  lines = step_lines(steps)
  os.makedirs(out, exist_ok=True)
  png = pictures.save_png(frame_grid(frames), os.path.join(out, "talk_demo.png"))
  text = os.path.join(out, "talk_demo.txt")
  with open(text, "w") as f:
    f.write(f"# seed {seed}, env model {env_model}, {num_parameters} trainable parameters{trained}\n")
    f.write("".join(line + "\n" for line in lines))
  for line in lines:
    print(line)
  print(f"Wrote {png} ({len(frames)} frames) and {text}.")
  result = dict(png=png, text=text, lines=lines, steps=steps, num_frames=len(frames),
                num_parameters=num_parameters, episode=episode)
  if env_model_checkpoint is not None and steps:
    result["imagined_png"] = pictures.save_png(imagined_grid(episode), os.path.join(out, IMAGINED_PNG))
    print(f"Wrote {result['imagined_png']} (the first frame's imagined rollouts).")
  return result


def run_with_flags(fv: flags.FlagValues) -> dict:
  """--output_dir (required): the directory for talk_demo.png and talk_demo.txt; --seed (>= 0) seeds the weights,
  the agent's sampling and the episode; --env_model: copy (default, CopyModel(3)) or conv (the talk's
  SizePreservingConvNetModel, untrained); --env_model_checkpoint: a trained MiniPacman model to imagine
  with instead (--env_model unset or 'learned')."""
  if not fv.output_dir:
    raise app.UsageError("--output_dir is required: the directory for talk_demo.png and talk_demo.txt.")
  if fv.seed is None or fv.seed < 0:
    raise app.UsageError(f"--seed={fv.seed}: the demo's seed must be >= 0.")
  checkpoint = fv.env_model_checkpoint or None
  env_model = fv.env_model or ("learned" if checkpoint else "copy")
  if checkpoint and env_model != "learned":
    raise app.UsageError(f"--env_model={env_model} with --env_model_checkpoint: the checkpoint is the model "
                         "the agent imagines with; leave --env_model unset.")
  if env_model == "learned" and not checkpoint:
    raise app.UsageError("--env_model=learned needs --env_model_checkpoint, e.g. "
                         "models/minipacman/env_model/env_model (models/MODELS.md).")
  if checkpoint:
    try:  # A model that is not there or does not fit the talk's agent (`build` checks it again).
      env_model_metadata.check_checkpoint_compatible(checkpoint, i2a.talk_config("learned"))
    except ValueError as error:
      raise app.UsageError(str(error)) from error
  return run(fv.output_dir, fv.seed, env_model, FRAME_CAP if fv.frame_cap is None else fv.frame_cap,
             checkpoint)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  run_with_flags(flags.FLAGS)


if __name__ == "__main__":
  common_flags.run_main(main)  # A user's mistake: one line and exit status 1.
