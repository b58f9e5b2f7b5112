"""What the findings scripts that score a trained run share: its command line and its held-out frames.

``python scripts/SCRIPT.py RUN [--data DATASET] [--out JSON]``: the run, the dataset it was trained on
(default: the path the run recorded) and where to write the JSON; the held-out frames are those of
the run's test episodes, the split ``srl-bench evaluate`` scores.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from srl_bench.data import load_dataset  # noqa: E402
from srl_bench.errors import SrlBenchError  # noqa: E402
from srl_bench.runs import run_test_episodes  # noqa: E402


def run_parser(description: str) -> argparse.ArgumentParser:
    """A parser with ``run``, ``--data`` and ``--out``; a script adds its own options."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("run")
    parser.add_argument("--data", default=None, help="the dataset the run was trained on (default: its recorded path)")
    parser.add_argument("--out", default=None, help="JSON to write (default: print only)")
    return parser


def held_out_rows(run: Path, data_path: str | None):
    """(the run's dataset, the rows of its held-out episodes); exits with one sentence when the run
    or the dataset cannot be read, or the dataset is not the one the run was trained on."""
    try:
        if data_path is None:
            if not (run / "dataset.json").is_file():
                raise SrlBenchError(f"{run} is not a finished srl-bench run (it has no dataset.json)")
            data_path = json.loads((run / "dataset.json").read_text())["path"]
        data = load_dataset(data_path)
        test = run_test_episodes(run, data)
    except SrlBenchError as exc:
        sys.exit(f"error: {exc}")
    if test is None:
        sys.exit(f"error: {run} was not trained on {data.path}; give --data the dataset it was trained on")
    return data, data.frames_of_episodes(np.asarray(test))
