"""Two exported MiniPacman event models on the same held-out pairs (results/README.md section 2).

Each model's per-event precision and recall and its imagined reward are computed on the held-out 10% of
one collection (the shards `launch.train_env_model --eval_fraction=0.1` holds out of it), at the
thresholds stored with the model and at thresholds chosen anew on a calibration collection. Models fit
to different collections were each judged on their own held-out pairs; this puts them on one set.

    python results/minipacman_events/compare_models.py <data> <calibration> <out.json> \
        old=models/minipacman/env_model/env_model new=<logdir>/env_model     # from the repository root

A diagnostic script, not part of the library.
"""
import json
import sys

import numpy as np

sys.path.insert(0, ".")
from i2a import games  # pylint: disable=g-import-not-at-top
from i2a.model_pipeline import data as model_data
from i2a.model_pipeline import event_metrics
from i2a.model_pipeline import event_thresholds
from i2a.model_pipeline import export
from i2a.training import env_model_metadata

EVAL_FRACTION = 0.1  # The event pipeline's (launch/configs/study_minipacman_events_env_model.flags).
MAX_PAIRS = 100_000  # Its --event_eval_pairs.


def compare(data_dir: str, calibration_dir: str, models: dict) -> dict:
  """{'<name>/stored' and '<name>/recalibrated': thresholds, one-step precision/recall, rewards}."""
  _, eval_names = model_data.split_shards(model_data.read_manifest(data_dir), EVAL_FRACTION)
  pairs, _ = event_metrics.held_out(data_dir, eval_names, MAX_PAIRS, 0, 1)
  out = dict(num_pairs=len(pairs["action"]))
  for name, path in models.items():
    metadata = env_model_metadata.load_metadata(path)
    geometry = games.Geometry("minipacman", task="regular", room_size=metadata["room_size"],
                              pixels_per_cell=metadata["pixels_per_cell"])
    model = export.load_model(path, geometry)
    recalibrated, _ = event_thresholds.calibrate(model, calibration_dir, MAX_PAIRS)
    for label, thresholds in (("stored", event_thresholds.from_metadata(metadata)),
                              ("recalibrated", recalibrated)):
      report = event_metrics.event_report(model, pairs, None, thresholds=thresholds)
      out[f"{name}/{label}"] = dict(path=path, thresholds=np.round(thresholds, 4).tolist(),
                                    one_step=report["at_thresholds"]["one_step"],
                                    rewards=report["rewards"]["one_step"])
  return out


def main(argv):
  data_dir, calibration_dir, out_path = argv[1:4]
  models = dict(item.split("=", 1) for item in argv[4:])
  result = compare(data_dir, calibration_dir, models)
  with open(out_path, "w") as f:
    json.dump(result, f, indent=1, default=float)
  for key, value in result.items():
    if key != "num_pairs":
      print(key, value["thresholds"], {e: (round(m["precision"], 3), round(m["recall"], 3), m["support"])
                                       for e, m in value["one_step"].items()})


if __name__ == "__main__":
  main(sys.argv)
