"""Resume areas: where an interrupted command keeps the work it finished until its output is published.

``.NAME.partial`` beside the output ``NAME`` (never ``.NAME.tmp-PID``, which ``srl_bench.publish``
cleans up), marked as srl-bench's own by ``srl-bench-resume.json``; a folder of that name without the
marker is never written into or deleted. Two users: ``srl-bench rl`` keeps each finished seed
(``srl_bench.rl.results.ResumeArea``), ``srl-bench train`` the state after its last finished epoch
(:class:`TrainCheckpoint`), so the same command run again goes on from there.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import sys
from pathlib import Path
from typing import Any

from srl_bench.errors import SrlBenchError
from srl_bench.publish import read_json, write_json_atomic, write_text_atomic

RESUME_SUFFIX = ".partial"
RESUME_MARKER = "srl-bench-resume.json"


def resume_dir_for(out: str | Path) -> Path:
    """Where the finished work of a command that writes ``out`` is kept: ``.NAME.partial`` beside it."""
    out = Path(out)
    return out.parent / f".{out.name}{RESUME_SUFFIX}"


def digest(fingerprint: Any) -> str:
    """SHA-256 of a JSON-able fingerprint (keys sorted)."""
    return hashlib.sha256(json.dumps(fingerprint, sort_keys=True).encode()).hexdigest()


def differing_keys(now: dict[str, Any], before: Any) -> list[str]:
    """The keys of two fingerprints whose values differ (none when ``before`` is not a dict)."""
    if not isinstance(before, dict):
        return []
    return [key for key in sorted({*now, *before}) if now.get(key) != before.get(key)]


class ResumeDir:
    """One command's resume area for the output ``out``; ``kind`` names what it keeps (its marker's
    ``kind``), ``note`` tells a reader of the marker what the folder is."""

    def __init__(self, out: str | Path, kind: str, note: str) -> None:
        self.out = Path(out)
        self.path = resume_dir_for(out)
        self.kind = kind
        self.note = note
        path = self.path
        if path.is_symlink() or (path.exists() and not path.is_dir()):
            raise SrlBenchError(f"{path} is in the way of srl-bench's resume area for {self.out} (it is not a "
                                "folder); move it away")
        if path.is_dir() and any(path.iterdir()) and not self.ours():
            raise SrlBenchError(f"{path} is in the way of srl-bench's resume area for {self.out} (it has no "
                                f"{RESUME_MARKER}), so nothing in it was touched; move it away")

    def ours(self) -> bool:
        """Whether the area exists and carries srl-bench's marker of this kind."""
        marker = read_json(self.path / RESUME_MARKER)
        return isinstance(marker, dict) and marker.get("kind") == self.kind

    def create(self) -> None:
        """Make the area (and its marker) if it is not there yet."""
        self.path.mkdir(parents=True, exist_ok=True)
        if not self.ours():
            write_json_atomic(self.path / RESUME_MARKER, {"kind": self.kind, "output": self.out.name, "note": self.note})

    def remove(self) -> None:
        """Delete the area (after the output is published), when it is srl-bench's own."""
        if self.path.is_dir() and not self.path.is_symlink() and self.ours():
            shutil.rmtree(self.path, ignore_errors=True)


TRAIN_KIND = "train-resume"
CHECKPOINT_FILE = "checkpoint.pt"
PROGRESS_FILE = "progress.json"  # beside the checkpoint: its epoch and seconds, readable without torch
CHECKPOINT_FORMAT = "srl-bench-train-checkpoint/1"


class TrainCheckpoint(ResumeDir):
    """The state of a training after its last finished epoch: model, optimiser, the best epoch's weights,
    early stopping's counters, the log so far, the random generators (NumPy's and torch's) and the
    seconds spent. ``fingerprint``: everything that determines the training (method, config, seed,
    dataset, split, device, threads, versions); a checkpoint of another fingerprint is not resumed.
    Resumed on the same software, device and thread count, training ends with the weights an
    uninterrupted run would have."""

    def __init__(self, out: str | Path, fingerprint: dict[str, Any]) -> None:
        super().__init__(out, TRAIN_KIND, f"the last finished epoch of an interrupted srl-bench train writing "
                                          f"{Path(out).name}; run the same command again to go on from it; "
                                          "removed once the run is published")
        self.fingerprint = fingerprint
        self.digest = digest(fingerprint)
        self.kept_epoch: int | None = None

    @property
    def file(self) -> Path:
        return self.path / CHECKPOINT_FILE

    def load(self) -> dict[str, Any] | None:
        """The kept state, when there is one made with this fingerprint (one line on stderr either way)."""
        import torch

        if not self.ours() or not self.file.is_file():
            return None
        try:
            state = torch.load(self.file, map_location="cpu", weights_only=True)
        except Exception:  # noqa: BLE001 - a file cut short by a killed process: start afresh
            state = None
        if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
            print(f"srl-bench: the checkpoint in {self.path} cannot be read; training starts afresh", file=sys.stderr)
            return None
        if state.get("fingerprint_sha256") != self.digest:
            differ = differing_keys(self.fingerprint, state.get("fingerprint"))
            print(f"srl-bench: the checkpoint in {self.path} was made with other {', '.join(differ) or 'settings'}; "
                  "training starts afresh", file=sys.stderr)
            return None
        print(f"srl-bench: resuming training after epoch {state['epoch']} (kept in {self.path})", file=sys.stderr)
        self.kept_epoch = int(state["epoch"])
        return state

    def save(self, state: dict[str, Any]) -> None:
        """Keep ``state`` (the epoch just finished), replacing the previous epoch's atomically."""
        import torch

        self.create()
        buffer = io.BytesIO()
        torch.save({"format": CHECKPOINT_FORMAT, "fingerprint_sha256": self.digest, "fingerprint": self.fingerprint,
                    **state}, buffer)
        write_text_atomic(self.file, buffer.getvalue())
        write_json_atomic(self.path / PROGRESS_FILE, {"epoch": int(state["epoch"]), "seconds": float(state["seconds"])})
        self.kept_epoch = int(state["epoch"])

    def interrupted_line(self) -> str | None:
        """What to print when training stops before publishing with an epoch kept: how to go on."""
        if self.kept_epoch is None or not self.file.is_file():
            return None
        return (f"srl-bench: training is kept after epoch {self.kept_epoch} in {self.path}; run the same command "
                "again to go on from there")


def kept_training(out: str | Path) -> dict[str, float] | None:
    """The ``{"epoch", "seconds"}`` of the training kept for the run ``out`` (its last finished epoch and
    the seconds spent up to it), when an interrupted ``srl-bench train`` left one; else None. A
    checkpoint kept before this file existed counts as epoch 0 and 0 seconds."""
    area = resume_dir_for(out)
    if not (area / CHECKPOINT_FILE).is_file():
        return None
    progress = read_json(area / PROGRESS_FILE)
    try:
        return {"epoch": int(progress["epoch"]), "seconds": float(progress["seconds"])}
    except (TypeError, KeyError, ValueError):
        return {"epoch": 0, "seconds": 0.0}
