"""What a leaderboard is made from: a benchmark's cells and their records, and the work directory
their outputs lie in.

Two ways in. At the end of a benchmark the runner hands over its config, cells and records
(:func:`from_benchmark`). ``srl-bench leaderboard DIR`` finds them again (:func:`from_directory`):
DIR is a leaderboard folder (its ``timing.json`` names the work directory and the command; the
benchmark config comes from its ``leaderboard.json``, else from the YAML the command names; when the
work directory is gone, or a later run reused it and its records differ from the folder's, the records the
folder carries stand for it: ``srl_bench.bench.published``), or a
work directory itself (the whole benchmark its runs noted in ``WORK/benchmark.json``, every part run
so far and what is left; else every finished cell record under ``WORK/cells/``, the environments
named from their datasets' ``meta.json``).
"""

from __future__ import annotations

import json
import shlex
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from srl_bench.bench.cells import RECORDS, STAGES, Cell, current_records, plan, read_record
from srl_bench.bench.config import BenchmarkConfig
from srl_bench.bench.published import curve_of, has_records, records_elsewhere
from srl_bench.errors import SrlBenchError
from srl_bench.publish import read_json


@dataclass
class Source:
    """A benchmark's cells, their records and where their outputs are."""

    name: str
    work: Path
    cells: list[Cell]
    records: dict[str, dict[str, Any] | None]
    command: str
    timing: str
    config: BenchmarkConfig | None = None
    env_ids: dict[str, str] = field(default_factory=dict)  # slug -> env id
    resume: str = ""  # the command that finishes the benchmark (default: ``command``)
    notes: list[str] = field(default_factory=list)  # what the reader should know of where the records came from

    def done(self, stage: str) -> list[Cell]:
        """The finished cells of one stage."""
        return [c for c in self.cells if c.stage == stage and (self.records.get(c.key) or {}).get("status") == "done"]


def from_benchmark(config: BenchmarkConfig, cells: list[Cell], records: dict[str, dict[str, Any] | None],
                   work: Path, command: str, timing: str) -> Source:
    """The source of a benchmark that just ran."""
    return Source(config.name, Path(work), list(cells), dict(records), command, timing, config,
                  {env.slug: env.id for env in config.envs})


def stage_seconds(cells: list[Cell], records: dict[str, dict[str, Any] | None]) -> dict[str, float]:
    """Compute seconds of the finished cells per stage (stages with none left out), from their records."""
    per_stage: dict[str, float] = Counter()
    for cell in cells:
        record = records.get(cell.key) or {}
        if record.get("status") == "done":
            per_stage[cell.stage] += float(record.get("seconds", 0.0))
    return dict(per_stage)


def compute_time(cells: list[Cell], records: dict[str, dict[str, Any] | None]) -> str:
    """The compute time of the finished cells, per stage, from their records."""
    per_stage = stage_seconds(cells, records)
    stages = ", ".join(f"{stage} {per_stage[stage] / 60:.1f}" for stage in STAGES if stage in per_stage)
    return f"{sum(per_stage.values()) / 60:.1f} min of compute over {len(cells)} cells: {stages} min"


BENCHMARK_FILE = "benchmark.json"  # in a work directory: the whole benchmark its cells belong to


def remember_benchmark(work: Path, config_path: Path, config: BenchmarkConfig, named: str) -> None:
    """Note in ``work`` which benchmark its cells belong to (the whole one, whatever part of it a run
    computes; ``named``: as the command named it), so ``srl-bench leaderboard WORK`` can show every
    part run so far and what is left."""
    work.mkdir(parents=True, exist_ok=True)
    note = {"config": str(Path(config_path).resolve()), "named": named, "benchmark": config.model_dump(mode="json")}
    tmp = work / f".{BENCHMARK_FILE}.tmp"
    tmp.write_text(json.dumps(note, indent=2) + "\n")
    tmp.replace(work / BENCHMARK_FILE)


def _config_of_work(work: Path) -> tuple[BenchmarkConfig | None, str]:
    """The benchmark :func:`remember_benchmark` noted in ``work`` (its YAML when it still loads, else the
    saved copy; None when neither can be read) and the command that finishes it."""
    from srl_bench.bench.config import load_benchmark
    from srl_bench.config import validate

    note = read_json(work / BENCHMARK_FILE)
    if not isinstance(note, dict) or not isinstance(note.get("config"), str):
        return None, ""
    resume = f"srl-bench benchmark {shlex.quote(str(note.get('named') or note['config']))}"
    try:
        return load_benchmark(note["config"]), resume
    except Exception:  # noqa: BLE001 - an edited or moved config: fall back to the saved copy
        pass
    try:
        return validate(BenchmarkConfig, note["benchmark"], str(work / BENCHMARK_FILE)), resume
    except Exception:  # noqa: BLE001 - a config of another srl-bench version: read the records alone
        return None, ""


def _planned(config: BenchmarkConfig | None, work: Path, command: str, timing: str | None) -> Source | None:
    """The source of ``config``'s cells in ``work`` (``timing``: None to sum it from the records); None
    when there is no config, it cannot be planned, or none of its metrics or RL cells is done there
    (the config no longer fits the records). A stale record (other settings, or a stale dependency)
    reads as none."""
    if config is None:
        return None
    try:
        cells = plan(config)
    except Exception:  # noqa: BLE001 - e.g. an encoder factory that no longer imports
        return None
    records = {cell.key: read_record(work, cell) for cell in cells}
    current = current_records(cells, records, work)
    records = {key: record if key in current else None for key, record in records.items()}
    source = from_benchmark(config, cells, records, work, command,
                            compute_time(cells, records) if timing is None else timing)
    return source if source.done("metrics") or source.done("rl") else None


def _config_of_folder(folder: Path, command: str, part: bool = True) -> BenchmarkConfig | None:
    """The benchmark config a leaderboard folder was made with: the YAML its command names (loaded the
    usual way, its ``imports`` imported; the part its ``--env``/``--method`` chose, or with ``part``
    false the whole), else the copy saved in its leaderboard.json (None when neither can be read, and
    for the whole of a part run, whose saved copy is the part)."""
    from srl_bench.bench.config import load_benchmark, select_part
    from srl_bench.config import validate

    try:
        words = shlex.split(command)
    except ValueError:
        words = []
    if "benchmark" in words and words.index("benchmark") + 1 < len(words):
        envs, rows = ([words[i + 1] for i, word in enumerate(words[:-1]) if word == option]
                      for option in ("--env", "--method"))
        try:
            return select_part(load_benchmark(words[words.index("benchmark") + 1]), envs if part else [],
                               rows if part else [])
        except Exception:  # noqa: BLE001 - an edited or moved config: fall back to the saved copy
            if not part and (envs or rows):  # the saved copy is that part, not the whole
                return None
    saved = read_json(folder / "leaderboard.json")
    if isinstance(saved, dict) and isinstance(saved.get("benchmark"), dict):
        try:
            return validate(BenchmarkConfig, saved["benchmark"], str(folder / "leaderboard.json"))
        except Exception:  # noqa: BLE001 - a config of another srl-bench version: read the records alone
            return None
    return None


def _scan(work: Path) -> tuple[list[Cell], dict[str, dict[str, Any] | None], dict[str, str]]:
    """Every cell record of a work directory, as cells; env ids from the datasets' meta.json."""
    cells: list[Cell] = []
    records: dict[str, dict[str, Any] | None] = {}
    for path in sorted((work / RECORDS).glob("*.json")):
        record = read_json(path)
        if not isinstance(record, dict) or not isinstance(record.get("key"), str):
            continue
        key, stage = record["key"], record.get("stage")
        parts = key.split("/")
        if stage not in STAGES or parts[0] != stage or len(parts) != (2 if stage == "dataset" else 4):
            continue
        spec: dict[str, Any] = {}
        out = {"dataset": "datasets", "train": "runs", "rl": "rl"}.get(stage, "")
        out = "/".join([out, *parts[1:]]) if out else ""
        if stage == "rl":
            rl = read_json(work / out / "rl.json")
            spec["algo"] = rl.get("algo", "?") if isinstance(rl, dict) else "?"
        cells.append(Cell(key, stage, spec, out=out, fingerprint=str(record.get("fingerprint", ""))))
        records[key] = record
    order = {stage: i for i, stage in enumerate(STAGES)}
    cells.sort(key=lambda c: order[c.stage])
    env_ids = {}
    for slug in dict.fromkeys(c.key.split("/")[1] for c in cells):
        meta = read_json(work / "datasets" / slug / "meta.json")
        env_ids[slug] = meta["env_id"] if isinstance(meta, dict) and isinstance(meta.get("env_id"), str) else slug
    return cells, records, env_ids


def from_directory(path: str | Path, whole: bool = False) -> Source:
    """The source behind a leaderboard folder or a work directory (see the module docstring); one
    clear sentence when ``path`` is neither. ``whole``: for a folder a part of its benchmark was run
    into (``--env``/``--method``), the whole benchmark from the records the folder carries: its own
    and those it kept of the other parts, or adopted when it was copied from a published folder."""
    path = Path(path)
    if not path.is_dir():
        raise SrlBenchError(f"{path} is not a directory; give a leaderboard folder (with timing.json) or a "
                            "benchmark work directory (with cells/)")
    timing = read_json(path / "timing.json") if (path / "timing.json").is_file() else None
    if whole and timing is not None:  # (a work directory shows the whole benchmark anyway)
        if not isinstance(timing, dict) or not has_records(path):
            raise SrlBenchError(f"--whole reads a leaderboard folder's own records, and {path} carries none (no "
                                f"{RECORDS}/: made before leaderboard folders kept their records)")
        command = f"srl-bench leaderboard {shlex.quote(str(path))} --whole"
        source = _planned(_config_of_folder(path, str(timing.get("command", "")), part=False), path, command, None)
        if source is None:
            raise SrlBenchError(f"cannot plan the whole benchmark of {path} again: its YAML (named by "
                                f"{timing.get('command', '?')!r}, a path read from the current directory) does not "
                                "load here, or none of the folder's records is current; run this where the "
                                "benchmark ran")
        return source
    if timing is not None:
        if not isinstance(timing, dict) or not isinstance(timing.get("work_dir"), str):
            raise SrlBenchError(f"{path / 'timing.json'} does not name the benchmark's work directory (no "
                                "'work_dir'); give the work directory itself")
        work = Path(timing["work_dir"])
        notes = []
        if not (work / RECORDS).is_dir() and has_records(path):  # the work directory is gone: the folder's records
            work = path
        elif has_records(path) and work.resolve() != path.resolve() and (differ := records_elsewhere(path, work)):
            notes.append(f"the work directory {work} holds other records for {differ} of the cells this folder "
                         "carries (a later run reused it), so the folder's own records are read; plots that need "
                         "a run's outputs are kept from the folder or left out")
            work = path
        if not (work / RECORDS).is_dir():
            raise SrlBenchError(f"the work directory {work} that {path / 'timing.json'} names has no cell records "
                                f"({work / RECORDS} is missing; a relative path is read from the current directory, "
                                "so run this where the benchmark ran, or give the work directory itself), and "
                                f"{path} carries none of its own (no {RECORDS}/: made before leaderboard folders "
                                "kept their records)")
        command = str(timing.get("command", ""))
        source = _planned(_config_of_folder(path, command), work, command, str(timing.get("timing", "")))
        if source is None:
            cells, records, env_ids = _scan(work)
            saved = read_json(path / "leaderboard.json")
            name = saved["name"] if isinstance(saved, dict) and isinstance(saved.get("name"), str) else work.name
            source = Source(name, work, cells, records, command, str(timing.get("timing", "")) or
                            compute_time(cells, records), None, env_ids)
        source.notes = notes
        return source
    if (path / RECORDS).is_dir():
        command = f"srl-bench leaderboard {shlex.quote(str(path))}"
        config, resume = _config_of_work(path)
        source = _planned(config, path, command, None)  # the whole benchmark: every part run so far
        if source is not None:
            source.resume = resume
            return source
        cells, records, env_ids = _scan(path)
        if not cells:
            raise SrlBenchError(f"{path / RECORDS} holds no cell records; run the benchmark first "
                                "(`srl-bench benchmark CONFIG`)")
        return Source(path.name, path, cells, records, command, compute_time(cells, records), None, env_ids)
    raise SrlBenchError(f"{path} is neither a leaderboard folder (no timing.json) nor a benchmark work directory "
                        f"(no {RECORDS}/); give the folder `srl-bench benchmark` wrote, or its work directory")


def collect_curves(source: Source) -> pd.DataFrame:
    """The RL learning curves of the finished RL cells: one row per (env, representation, seed,
    evaluation), with the evaluation's mean and spread of returns (no wall-clock time)."""
    columns = ["env", "representation", "seed", "timesteps", "mean_return", "std_return", "min_return",
               "max_return", "n_episodes"]
    frames = []
    for cell in source.done("rl"):
        _, slug, name, seed_part = cell.key.split("/")
        frame = curve_of(source.work, source.records.get(cell.key) or {}, f"{cell.out}/curve.csv")
        if frame is None or not {"timesteps", "mean_return"} <= set(frame.columns):
            continue
        frame = frame.assign(env=source.env_ids.get(slug, slug), representation=name,
                             seed=int(seed_part.removeprefix("seed")))
        for column in columns:
            if column not in frame:
                frame[column] = float("nan")
        frames.append(frame[columns])
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)
