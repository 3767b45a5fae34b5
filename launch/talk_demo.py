r"""The talk notebook's "putting it all together": its demo I2A agent plays one MiniPacman episode and
distils its rollout policy after every frame.

  python -m launch.talk_demo --output_dir=/tmp/talk_demo [--seed=0] [--env_model=copy|conv]

The agent is `i2a.talk_config()`'s: frame stack 4, rollout depth 3, CopyModel(3) (or, with
--env_model=conv, the talk's SizePreservingConvNetModel with reward bins (-1, 0, 1), untrained as in the
notebook), FrameProcessing(128) as the model-free path, SingleImagFeature(128), RolloutPolicy(5, 128),
LSTM(256) and the value/logits Linear straight off the concatenation; batch 1, as in the notebook. The
episode is MiniPacman 'regular' with the notebook's frame cap of 39 steps. After every frame, one
distillation step (talk, distillation slide: TF1's RMSPropOptimizer, learning rate 1e-5, epsilon 0.1)
moves the rollout policy towards the agent's policy on that frame.

Writes <out>/talk_demo.png (every observed frame, the first included, 10 per row) and
<out>/talk_demo.txt (one line per step: action, reward, distillation loss before that step's update),
and prints the trainable parameter count (910,987) and the lines.
"""
import os
from typing import NamedTuple

from absl import app
from absl import flags
import numpy as np
import tensorflow as tf

from envs import minipacman
import i2a
from i2a import agent_core
from i2a.model_pipeline import pictures
from i2a import optimizers
from i2a.profiling import model_cost
from launch import common_flags
from launch import config_flags

FRAME_CAP = 39  # The notebook's episode length.
LEARNING_RATE = 1e-5  # The notebook's distillation learning rate.
EPSILON = 0.1  # The talk's distillation slide: RMSPropOptimizer(learning_rate, epsilon=0.1).
FRAMES_PER_ROW = 10


config_flags.define("seed", "env_model")
common_flags.define("output_dir", "frame_cap")  # --frame_cap default: FRAME_CAP.


class Step(NamedTuple):
  """One step of the demo: the action taken, the reward received, the distillation loss on the frame."""
  action: int
  reward: float
  distillation_loss: float


def build(seed: int, env_model: str) -> tuple[i2a.I2AAgent, optimizers.RMSPropTF1]:
  """The demo agent (variables created) and its distillation optimizer (slots created)."""
  tf.random.set_seed(seed)  # Initial weights.
  agent = i2a.build_agent(i2a.talk_config(env_model, seed=seed))
  agent_core.build_variables(agent)
  # tf.train.RMSPropOptimizer's defaults besides the slide's epsilon: decay 0.9, momentum 0.
  optimizer = optimizers.RMSPropTF1(LEARNING_RATE, decay=0.9, momentum=0.0, epsilon=EPSILON)
  optimizers.create_slots(optimizer, agent.trainable_variables)
  return agent, optimizer


def make_step_fn(agent: i2a.I2AAgent, optimizer: optimizers.RMSPropTF1):
  """`step(frame float32 [1, H, W, 3], state) -> (action int32 [1], loss float32 [], next_state)`.

  Acts, then distils on the same frame: cross-entropy of the rollout policy's logits against
  stop_gradient(softmax(policy logits)) (talk, distillation slide). Like TF1's `minimize(distill_loss)`,
  the gradient is taken with respect to every trainable variable; the stop_gradient on the labels is
  what leaves all but the rollout policy's gradients None, so only the rollout policy moves.
  """
  variables = agent.trainable_variables

  @tf.function(autograph=False)
  def step(frame, state):
    with tf.GradientTape() as tape:
      (action, policy_logits, _), next_state = agent(frame, state)
      _, rollout_logits = agent.rollout_policy(frame)
      loss = tf.reduce_sum(i2a.distillation_loss(rollout_logits, policy_logits).loss)  # Batch 1.
    optimizer.apply(tape.gradient(loss, variables), variables)
    return action, loss, next_state

  return step


def play(agent: i2a.I2AAgent, optimizer: optimizers.RMSPropTF1, seed: int,
         frame_cap: int = FRAME_CAP) -> tuple[np.ndarray, list[Step]]:
  """One MiniPacman 'regular' episode of at most `frame_cap` steps, a distillation step per frame.

  Returns:
    frames uint8 [T + 1, 15, 19, 3] (the first frame and one per step) and the T steps.
  """
  env = minipacman.MiniPacman(task="regular", seed=seed, frame_cap=frame_cap)
  step_fn = make_step_fn(agent, optimizer)
  timestep = env.reset()
  state = agent.initial_state()  # Batch 1, as the notebook calls it.
  frames, steps = [timestep.observation["rgb"]], []
  while not timestep.last() and len(steps) < frame_cap:
    frame = tf.constant(timestep.observation["rgb"][np.newaxis], tf.float32) / 255.0
    action, loss, state = step_fn(frame, state)
    action = int(action.numpy()[0])  # [B] here; the talk's agent returns [B, 1].
    timestep = env.step(action)
    frames.append(timestep.observation["rgb"])
    steps.append(Step(action, float(timestep.reward), float(loss.numpy())))
  return np.stack(frames), steps


def step_lines(steps: list[Step]) -> list[str]:
  names = minipacman.ACTION_NAMES
  return [f"step {t + 1:3d}  action {s.action} ({names[s.action]:<5})  reward {s.reward:+5.1f}  "
          f"distillation loss {s.distillation_loss:.6f}" for t, s in enumerate(steps)]


def frame_grid(frames: np.ndarray):
  """The frames as a PIL image, FRAMES_PER_ROW per row, each row labelled with its first step."""
  rows = [frames[i:i + FRAMES_PER_ROW] for i in range(0, len(frames), FRAMES_PER_ROW)]
  labels = [f"t={i}" for i in range(0, len(frames), FRAMES_PER_ROW)]
  return pictures.grid_image(rows, labels, pictures.upscale_factor(*frames.shape[1:3]), FRAMES_PER_ROW)


def run(out: str, seed: int = 0, env_model: str = "copy", frame_cap: int = FRAME_CAP) -> dict:
  """Builds the demo agent, plays the episode, writes the PNG and the text; returns what it wrote."""
  agent, optimizer = build(seed, env_model)
  num_parameters = model_cost.num_parameters(agent.trainable_variables)
  print(f"Talk demo agent (env model {env_model!r}): {num_parameters:,} trainable parameters "
        f"(rollout policy included, environment model excluded).", flush=True)
  frames, steps = play(agent, optimizer, seed, frame_cap)
  lines = step_lines(steps)
  os.makedirs(out, exist_ok=True)
  png = pictures.save_png(frame_grid(frames), os.path.join(out, "talk_demo.png"))
  text = os.path.join(out, "talk_demo.txt")
  with open(text, "w") as f:
    f.write(f"# seed {seed}, env model {env_model}, {num_parameters} trainable parameters\n")
    f.write("".join(line + "\n" for line in lines))
  for line in lines:
    print(line)
  print(f"Wrote {png} ({len(frames)} frames) and {text}.")
  return dict(png=png, text=text, lines=lines, steps=steps, num_frames=len(frames),
              num_parameters=num_parameters)


def run_with_flags(fv: flags.FlagValues) -> dict:
  """--output_dir (required): the directory for talk_demo.png and talk_demo.txt; --seed (>= 0) seeds the weights,
  the agent's sampling and the episode; --env_model: copy (default, CopyModel(3)) or conv (the talk's
  SizePreservingConvNetModel, untrained)."""
  if not fv.output_dir:
    raise app.UsageError("--output_dir is required: the directory for talk_demo.png and talk_demo.txt.")
  if fv.seed is None or fv.seed < 0:
    raise app.UsageError(f"--seed={fv.seed}: the demo's seed must be >= 0.")
  env_model = fv.env_model or "copy"
  if env_model not in ("copy", "conv"):
    raise app.UsageError(f"--env_model={env_model}: the talk's demo uses 'copy' or 'conv'.")
  return run(fv.output_dir, fv.seed, env_model, FRAME_CAP if fv.frame_cap is None else fv.frame_cap)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  run_with_flags(flags.FLAGS)


if __name__ == "__main__":
  app.run(main)
