"""A leaderboard folder carries the records of its cells, so the benchmark outlives its work directory.

The work directory holds everything a benchmark computed (datasets, runs, agents) and is large, so
it is not what people commit or share; the leaderboard folder is. Each folder therefore gets
``cells/``: the record of every finished cell (``WORK/cells/<key>.json``, as the runner wrote it),
with two additions that make it stand without its outputs: the settings its output records it was
made with (``settings``: train and RL cells) and, for an RL cell, its learning curve
(``curve_points``). A leaderboard folder is thereby a work directory without outputs:

- ``srl-bench leaderboard FOLDER`` remakes the tables from it when the work directory is gone;
- a benchmark run into an existing leaderboard folder writes each record there as its cell finishes,
  so the records outlive the machine even when the run is never finished or interrupted (the tables
  are written at the end, or on Ctrl-C);
- a folder written again keeps the records of cells outside the benchmark part it now shows (a
  ``--method`` or ``--env`` run into the folder of the whole benchmark loses nothing);
- ``srl-bench benchmark CONFIG --out FOLDER`` adopts the folder's records into a new work directory
  (a cell's record is adopted when its fingerprint is the cell's and the work directory has no
  finished record of it), so a fresh clone, another machine or a contributor's run computes only what
  the published leaderboard lacks. An adopted cell's output is made again only when a cell still to
  compute reads it (an agent trained on an encoder whose run is not on this machine); training is
  deterministic per seed on a fixed thread count, so on the same software and kind of CPU the remade
  run is the one the record scored (elsewhere its last bits may differ, as any rerun's would).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from srl_bench.bench.cells import RECORDS, Cell, read_record, record_path, recorded_settings
from srl_bench.publish import read_json, read_marker, write_json_atomic

CURVE_POINTS = "curve_points"  # an RL record's learning curve, as rows of its curve.csv


def curve_of(work: Path, record: dict[str, Any], default: str | None = None) -> pd.DataFrame | None:
    """An RL cell's learning curve: its ``curve.csv`` under ``work`` (where its record says, else
    ``default``), else the points its published record carries (None when neither is there)."""
    result = record.get("result") or {}
    path = result.get("curve") or default
    if isinstance(path, str):
        try:
            return pd.read_csv(work / path)
        except (OSError, ValueError, pd.errors.ParserError):
            pass
    points = record.get(CURVE_POINTS)
    return pd.DataFrame(points) if isinstance(points, list) and points else None


def published_record(work: Path, cell: Cell, record: dict[str, Any]) -> dict[str, Any]:
    """``record`` as a leaderboard folder carries it: with the settings its output was made with (when
    the record does not say them yet) and an RL cell's curve points."""
    published = dict(record)
    if cell.settings is not None and "settings" not in published:
        settings = recorded_settings(work, cell)
        if settings is not None:
            published["settings"] = settings
    if cell.stage == "rl" and CURVE_POINTS not in published:
        curve = curve_of(work, record)
        if curve is not None:
            published[CURVE_POINTS] = json.loads(curve.to_json(orient="records"))
    return published


def publish_record(folder: Path, work: Path, cell: Cell, record: dict[str, Any]) -> None:
    """Write one finished cell's record into the leaderboard folder ``folder`` (atomically)."""
    write_json_atomic(record_path(folder, cell), published_record(work, cell, record))


def is_benchmark_folder(path: Path) -> bool:
    """Whether ``path`` is an existing srl-bench leaderboard folder (its marker says so)."""
    marker = read_marker(path) if path.is_dir() else None
    return marker is not None and marker.get("kind") == "benchmark"


def write_records(folder: Path, work: Path, cells: list[Cell], records: dict[str, dict[str, Any] | None]) -> None:
    """Write the records of the finished ``cells`` into ``folder/cells/``."""
    for cell in cells:
        record = records.get(cell.key)
        if record is not None and record.get("status") == "done":
            publish_record(folder, work, cell, record)


def keep_other_records(previous: Path, folder: Path, cells: list[Cell]) -> None:
    """Copy into ``folder/cells/`` the records of ``previous`` (the folder it replaces) that belong to none
    of ``cells``: a run of one part of a benchmark into the folder of the whole keeps the other parts'
    records."""
    if not has_records(previous):
        return
    ours = {cell.record_name for cell in cells}
    (folder / RECORDS).mkdir(parents=True, exist_ok=True)
    for path in sorted((previous / RECORDS).glob("*.json")):
        if path.name not in ours and not (folder / RECORDS / path.name).exists():
            (folder / RECORDS / path.name).write_bytes(path.read_bytes())


def has_records(folder: Path) -> bool:
    """Whether ``folder`` carries published cell records."""
    return (folder / RECORDS).is_dir() and any((folder / RECORDS).glob("*.json"))


def records_elsewhere(folder: Path, work: Path) -> int:
    """How many finished records ``folder`` carries that ``work`` holds otherwise (another fingerprint,
    status or result under the same name): a count above zero means a later run reused the work
    directory, so its records are not the ones the folder shows."""
    differ = 0
    for path in sorted((folder / RECORDS).glob("*.json")):
        ours, theirs = read_json(path), read_json(work / RECORDS / path.name)
        if not isinstance(ours, dict) or ours.get("status") != "done" or not isinstance(theirs, dict):
            continue
        differ += any(ours.get(field) != theirs.get(field) for field in ("fingerprint", "status", "result"))
    return differ


def adoptable(folder: Path, cells: list[Cell], records: dict[str, dict[str, Any] | None]) -> dict[str, dict[str, Any]]:
    """The published records of ``folder`` that stand for cells with no finished record in ``records``
    (the work directory's): same key, same fingerprint, status done."""
    adopted: dict[str, dict[str, Any]] = {}
    if not has_records(folder):
        return adopted
    for cell in cells:
        own = records.get(cell.key)
        if own is not None and own.get("status") == "done" and own.get("fingerprint") == cell.fingerprint:
            continue
        published = read_record(folder, cell)
        if (published is not None and published.get("status") == "done"
                and published.get("fingerprint") == cell.fingerprint):
            adopted[cell.key] = published
    return adopted


def outputs_to_remake(cells: list[Cell], todo: set[str], work: Path) -> set[str]:
    """The finished cells whose output is not in ``work`` (adopted records) that a cell in ``todo``
    reads, directly or through another such cell."""
    by_key = {cell.key: cell for cell in cells}
    remake: set[str] = set()
    stack = list(todo)
    while stack:
        for dep in by_key[stack.pop()].deps:
            cell = by_key[dep]
            if dep not in todo and dep not in remake and cell.out and not (work / cell.out).exists():
                remake.add(dep)
                stack.append(dep)
    return remake
