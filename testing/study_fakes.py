"""The study runner's fake stage: a tiny script whose run counts steps in `<out>/steps`, resuming from
the count it finds (as the binaries resume from their checkpoints), appends its start and end times to
`<out>/times`, and can be told to fail, to stop early with exit status 0 (as a binary does on SIGTERM),
or to wait for a file. Shared by the study tests (runner, execute, Ray, the launch.study binary).
"""
import dataclasses
import os

from i2a.study import completion
from i2a.study import graph

FAKE_STAGE = r"""
import argparse, os, sys, time
parser = argparse.ArgumentParser()
parser.add_argument("--out"); parser.add_argument("--steps", type=int, default=3)
parser.add_argument("--stop_after", type=int, default=0); parser.add_argument("--fail", action="store_true")
parser.add_argument("--wait_for", default=""); parser.add_argument("--needs", default="")
args = parser.parse_args()
os.makedirs(args.out, exist_ok=True)
def note(what):
  with open(os.path.join(args.out, "times"), "a") as f:
    f.write(f"{what} {time.time()!r}\n")
note("start")
for need in filter(None, args.needs.split(",")):
  assert os.path.exists(need), f"{need} is missing: the runner started this run too early"
if args.fail:
  print("boom: failing as asked", flush=True)
  sys.exit(3)
if args.wait_for:  # Proves that two runs overlap: each waits for the other's start.
  deadline = time.time() + 120
  while not os.path.exists(args.wait_for):
    assert time.time() < deadline, f"{args.wait_for} never appeared: the runs did not overlap"
    time.sleep(0.05)
path = os.path.join(args.out, "steps")
done = int(open(path).read()) if os.path.exists(path) else 0
print(f"resuming at step {done}", flush=True)
for step in range(done + 1, args.steps + 1):
  open(path, "w").write(str(step))
  if step == args.stop_after:
    print("stopped early, like a SIGTERM", flush=True)
    break
note("end")
"""


@dataclasses.dataclass(frozen=True)
class StepsDone(completion.NoSummary):  # The fake exports nothing.
  """The fake stage's completion: `steps` counted in `<out>/steps`.

  Attributes:
    out: the fake's --out.
    steps: its --steps.
  """
  out: str
  steps: int

  def status(self, run: graph.Run, root: str) -> completion.Status:
    del run
    path = os.path.join(root, self.out, "steps")
    count = int(open(path).read()) if os.path.exists(path) else 0
    if count >= self.steps:
      return completion.Status(completion.DONE, 1.0, f"{count}/{self.steps} steps")
    if count:
      return completion.Status(completion.PARTIAL, count / self.steps, f"{count}/{self.steps} steps")
    return completion.Status(completion.PENDING)


def write_stage(tmp_path) -> str:
  """Writes FAKE_STAGE into `tmp_path`; returns its path."""
  path = tmp_path / "fake_stage.py"
  path.write_text(FAKE_STAGE)
  return str(path)


def fake_run(stage: str, root, name: str, needs=(), steps: int = 3, hours: float = 1.0, **options) -> graph.Run:
  """A fake run `toy/<name>` writing to `<root>/<name>`; options: fail, stop_after, wait_for."""
  out = os.path.join(str(root), name)
  args = [stage, f"--out={out}", f"--steps={steps}"]
  args += [f"--needs={','.join(os.path.join(str(root), n, 'steps') for n in needs)}"] if needs else []
  args += [f"--{k}" if v is True else f"--{k}={v}" for k, v in options.items()]
  return graph.Run(f"toy/{name}", tuple(args), out, StepsDone(out, steps), needs=tuple(f"toy/{n}" for n in needs),
                   work=graph.Work(seconds=hours * 3600), summary_dir=out)


def times(root, name: str) -> list[tuple[str, float]]:
  path = os.path.join(str(root), name, "times")
  if not os.path.exists(path):
    return []
  return [(what, float(t)) for what, t in (line.split() for line in open(path))]
