"""A run's results: the ``rl.json`` payload, the normalised score against the reference runs, and the
files (``rl.json``, ``curve.csv``), written into the temporary directory of ``srl_bench.publish``'s
``Publisher``, which moves it into place when complete; and the resume area (:class:`ResumeArea`),
where each seed's result is kept as soon as it finishes, so that an interrupted run loses none."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import gymnasium as gym
import numpy as np
import torch

from srl_bench import __version__
from srl_bench.errors import SrlBenchError
from srl_bench.publish import TEMP_INFIX, clean_stale, read_json, write_json_atomic, write_text_atomic
from srl_bench.resume import ResumeDir, differing_keys
from srl_bench.resume import digest as digest_of
from srl_bench.rl.agent import SeedResult, policy_name
from srl_bench.rl.protocol import seed_scores
from srl_bench.rl.settings import RLRun
from srl_bench.stats import mean_ci

RL_FORMAT = "srl-bench-rl/1"
CURVE_FIELDS = ("seed", "timesteps", "mean_return", "std_return", "min_return", "max_return", "mean_length",
                "n_episodes", "wall_seconds")
REFERENCE_KINDS = ("ground_truth", "random_policy")


# --- the normalised score ------------------------------------------------------------------------

def normalized_score(score: float, ground_truth: float, random: float) -> float:
    """``(score − random) / (ground_truth − random)``: 0 is the random policy, 1 the ground-truth agent.

    NaN when the two references coincide (the normalisation is undefined).
    """
    span = ground_truth - random
    if not math.isfinite(span) or abs(span) < 1e-12:
        return math.nan
    return (score - random) / span


def find_references(references: str | Path, env_id: str, algo: str, timesteps: int) -> dict[str, dict[str, Any]]:
    """The ``rl.json`` of ground_truth and random_policy runs under ``references`` with the same env,
    algorithm and budget (``{kind: payload}``; kinds without a match are absent)."""
    found: dict[str, dict[str, Any]] = {}
    root = Path(references)
    if not root.is_dir():
        raise SrlBenchError(f"references directory {root} does not exist; point it at a folder of rl runs")
    for path in sorted(root.rglob("rl.json")):
        try:
            payload = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        kind = payload.get("representation", {}).get("kind")
        if kind in REFERENCE_KINDS and kind not in found and payload.get("env_id") == env_id \
                and payload.get("algo") == algo and payload.get("timesteps") == timesteps:
            found[kind] = {**payload, "path": str(path)}
    return found


def attach_normalized_score(payload: dict[str, Any], ground_truth_mean: float | None, random_mean: float | None,
                            sources: Mapping[str, str]) -> None:
    """Add the normalised score (per seed and of the mean) to an ``rl.json`` payload, given the references."""
    if ground_truth_mean is None or random_mean is None:
        payload["normalized_score"] = None
        payload["normalized_reference"] = {"missing": [k for k, v in (("ground_truth", ground_truth_mean),
                                                                      ("random_policy", random_mean)) if v is None]}
        return
    per_seed = {s: normalized_score(v, ground_truth_mean, random_mean) for s, v in payload["scores"].items()}
    payload["normalized_score"] = normalized_score(payload["score_mean"], ground_truth_mean, random_mean)
    payload["normalized_scores"] = per_seed
    payload["normalized_reference"] = {"ground_truth_mean": ground_truth_mean, "random_policy_mean": random_mean,
                                       **sources}


def attach_references(payload: dict[str, Any], references: str | Path | None) -> None:
    """The normalised score of ``payload`` against the references found under ``references`` (a run
    that is itself a reference is its own)."""
    kind = payload["representation"]["kind"]
    found = (find_references(references, payload["env_id"], payload["algo"], payload["timesteps"])
             if references is not None else {})
    means = {ref: payload["score_mean"] if kind == ref else found.get(ref, {}).get("score_mean")
             for ref in REFERENCE_KINDS}
    sources = {f"{k}_file": v["path"] for k, v in found.items()}
    attach_normalized_score(payload, means["ground_truth"], means["random_policy"], sources)


# --- the payload ---------------------------------------------------------------------------------

def rl_payload(run: RLRun, rows: Sequence[dict[str, Any]], results: Mapping[int, SeedResult],
               seconds: float) -> dict[str, Any]:
    """The ``rl.json`` of a finished run, before its normalised score (:func:`attach_references`) and
    :func:`strict_json`."""
    seeds = run.options.seeds
    scores = seed_scores(rows, seeds)
    mean, low, high = mean_ci(list(scores.values()))
    total_steps = sum(result.timesteps for result in results.values())
    shapes = [result.observation_shape for result in results.values() if result.observation_shape is not None]
    protocol, representation = run.protocol, run.representation
    payload: dict[str, Any] = {
        "format": RL_FORMAT,
        "env_id": run.env_id,
        "env_kwargs": run.factory.env_kwargs,
        "representation": {"kind": representation.kind, "name": representation.name, **representation.info},
        "algo": run.algo,
        "timesteps": protocol.budget,
        "timesteps_done": {str(seed): result.timesteps for seed, result in results.items()},
        "seeds": seeds,
        "n_seeds": len(seeds),
        "evaluation": protocol.describe(),
        "scores": scores,
        "score_mean": mean,
        "score_ci95": [low, high],
        "score_std": float(np.std(list(scores.values()))),
        "hyperparams": {**run.config.hyperparams(), "eval_freq": protocol.eval_freq},
        "hyperparams_file": run.config.source,
        "policy": policy_name(run.config.runner, representation),
        "agent_observation_shape": shapes[-1] if shapes else None,
        "device": str(run.device),
        "vec_env": run.options.vec_env,
        "seconds": round(seconds, 2),
        "env_steps_per_second": round(total_steps / seconds, 1) if total_steps else None,
        "curve_file": "curve.csv",
        "versions": versions(),
    }
    if representation.kind == "random_policy":
        payload["hyperparams"] = {"n_timesteps": protocol.budget, "eval_freq": protocol.eval_freq,
                                  "n_eval": protocol.n_eval, "note": "uniform random actions; nothing is trained"}
    return payload


def versions() -> dict[str, str]:
    """The versions of srl-bench and of the libraries a result depends on."""
    import stable_baselines3

    return {"srl_bench": __version__, "stable_baselines3": stable_baselines3.__version__, "torch": torch.__version__,
            "gymnasium": gym.__version__}


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, tuple):
        return list(value)
    return str(value)


def _finite_or_none(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite_or_none(v) for v in value]
    return value


def strict_json(payload: dict[str, Any]) -> dict[str, Any]:
    """``payload`` as plain JSON values: NumPy numbers as Python's, paths as text, NaN and infinities as None."""
    return _finite_or_none(json.loads(json.dumps(payload, default=_json_default)))


# --- files ---------------------------------------------------------------------------------------

def curve_csv(rows: Sequence[dict[str, Any]]) -> str:
    """The text of ``curve.csv``: one row per evaluation, ``CURVE_FIELDS`` as columns."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CURVE_FIELDS)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def read_curve(path: str | Path) -> list[dict[str, float]]:
    """The rows of a ``curve.csv`` as dicts of numbers."""
    with open(path, newline="") as handle:
        return [{k: (int(v) if k in ("seed", "timesteps", "n_episodes") else float(v)) for k, v in row.items()}
                for row in csv.DictReader(handle)]


def write_results(work_dir: Path, payload: dict[str, Any], rows: Sequence[dict[str, Any]]) -> None:
    """Write ``rl.json`` and ``curve.csv`` into ``work_dir`` (the publisher's temporary directory), beside
    the run's other files (agents, ``tb/``)."""
    (work_dir / "curve.csv").write_text(curve_csv(rows))
    (work_dir / "rl.json").write_text(json.dumps(payload, indent=2))


# --- the resume area -----------------------------------------------------------------------------

RESUME_KIND = "rl-resume"
SEED_FORMAT = "srl-bench-rl-seed/1"


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _sha256_state(module: torch.nn.Module) -> str:
    digest = hashlib.sha256()
    for key, value in module.state_dict().items():
        digest.update(key.encode())
        if isinstance(value, torch.Tensor):
            tensor = value.detach().cpu().contiguous()
            digest.update(f"{tensor.dtype}{tuple(tensor.shape)}".encode())
            digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
        else:
            digest.update(repr(value).encode())
    return digest.hexdigest()


def representation_identity(representation: Any) -> dict[str, Any] | None:
    """What identifies the representation a seed was trained through: the name of a reference, the
    checksums of a run directory's ``config.json`` and ``model.pt``, the class and weights of an
    encoder module; None for a plain callable (nothing to check it by, so its seeds are not resumed)."""
    if representation.kind != "learned":
        return {"kind": representation.kind, "name": representation.name}
    run_dir = representation.info.get("run_dir")
    if run_dir is not None:
        from srl_bench.runs import CONFIG_FILE, WEIGHTS_FILE

        return {"kind": "learned", "run_files": {name: _sha256_file(Path(run_dir) / name)
                                                 for name in (CONFIG_FILE, WEIGHTS_FILE)}}
    encoder = representation.encoder
    if isinstance(encoder, torch.nn.Module):
        cls = type(encoder)
        return {"kind": "learned", "class": f"{cls.__module__}.{cls.__qualname__}", "weights": _sha256_state(encoder)}
    return None


def run_fingerprint(run: RLRun) -> dict[str, Any] | None:
    """Everything but the seed that determines a seed's result (None: the representation cannot be
    identified). Two calls whose fingerprints match train the same agent for the same seed."""
    identity = representation_identity(run.representation)
    if identity is None:
        return None
    return strict_json({
        "env_id": run.env_id, "algo": run.algo, "representation": identity, "env_kwargs": run.factory.env_kwargs,
        "hyperparams": run.config.hyperparams(), "evaluation": {**run.protocol.describe(),
                                                                "budget": run.protocol.budget},
        "policy": policy_name(run.config.runner, run.representation), "device": str(run.device),
        "vec_env": run.options.vec_env, "versions": versions(),
    })


def _seeds(seeds: Sequence[int]) -> str:
    return ", ".join(map(str, seeds))


@dataclass(frozen=True)
class StoredSeed:
    """One finished seed kept in the resume area."""

    seed: int
    result: SeedResult
    rows: list[dict[str, Any]]  # its rows of curve.csv, as first recorded
    seconds: float  # how long it took


class ResumeArea(ResumeDir):
    """The finished seeds of a run that writes ``out``, kept in ``.NAME.partial`` beside it until the
    output is published (then removed), so that an interrupted run can resume from them.

    Per seed: ``seed<S>.json`` (its SeedResult, its curve rows, and the fingerprint of everything it
    depends on), written atomically and last, beside its ``agent_seed<S>.zip`` (with ``save_agents``)
    and ``tb/seed<S>/`` (its TensorBoard runs, when written). A seed is reused only when its
    fingerprint matches this run's. ``srl-bench-resume.json`` marks the folder as srl-bench's own: a
    folder of that name without it is never written into or deleted.
    """

    def __init__(self, out: str | Path, fingerprint: dict[str, Any]) -> None:
        super().__init__(out, RESUME_KIND, f"finished seeds of an interrupted srl-bench rl run writing {Path(out).name}; "
                                           "run the same command again to resume from them; removed once the output "
                                           "is published")
        self.fingerprint = fingerprint
        self.digest = digest_of(fingerprint)
        self.kept: list[int] = []  # seeds of this run that are in the area (reused or newly stored)

    def seed_file(self, seed: int) -> Path:
        return self.path / f"seed{seed}.json"

    def agent_file(self, seed: int) -> Path:
        return self.path / f"agent_seed{seed}.zip"

    def tb_dir(self, seed: int) -> Path:
        return self.path / "tb" / f"seed{seed}"

    # reading

    def lookup(self, seeds: Sequence[int], need_agent: bool) -> tuple[dict[int, StoredSeed], dict[int, str]]:
        """The seeds of ``seeds`` that can be reused, and, for those kept there that cannot, why not."""
        reusable: dict[int, StoredSeed] = {}
        refused: dict[int, str] = {}
        if not self.path.is_dir() or not self.ours():
            return reusable, refused
        for seed in seeds:
            if not self.seed_file(seed).exists():
                continue
            stored, why = self._load(seed, need_agent)
            if stored is not None:
                reusable[seed] = stored
            else:
                refused[seed] = why
        return reusable, refused

    def _load(self, seed: int, need_agent: bool) -> tuple[StoredSeed | None, str]:
        content = read_json(self.seed_file(seed))
        if not isinstance(content, dict) or content.get("format") != SEED_FORMAT or content.get("seed") != seed:
            return None, "unreadable"
        if content.get("fingerprint_sha256") != self.digest:
            differ = differing_keys(self.fingerprint, content.get("fingerprint"))
            return None, f"other {', '.join(differ)}" if differ else "other settings"
        if need_agent and not self.agent_file(seed).is_file():
            return None, "no saved agent"
        try:
            rows = [{field: row[field] for field in CURVE_FIELDS} for row in content["rows"]]
            result = SeedResult(int(content["timesteps"]), content["observation_shape"])
            seconds = float(content["seconds"])
        except (KeyError, TypeError, ValueError):
            return None, "unreadable"
        if not rows or any(row["seed"] != seed for row in rows):
            return None, "unreadable"
        return StoredSeed(seed, result, rows, seconds), ""

    def announce(self, reused: Sequence[int], refused: Mapping[int, str]) -> str | None:
        """The one line that says which seeds are reused and which kept ones are trained again."""
        parts = [f"resuming: seeds {_seeds(reused)} reused from {self.path}"] if reused else []
        where = "kept there" if reused else f"kept in {self.path}"
        for reason in dict.fromkeys(refused.values()):
            parts.append(f"seeds {_seeds([s for s in refused if refused[s] == reason])} {where} are trained again "
                         f"({reason})")
        return "srl-bench: " + "; ".join(parts) if parts else None

    def restore(self, stored: StoredSeed, work_dir: Path | None, save_agents: bool,
                tensorboard_dir: str | None) -> None:
        """Put a reused seed's files (its agent, its TensorBoard runs) into the run's output."""
        self.kept.append(stored.seed)
        if work_dir is None:
            return
        if save_agents:
            shutil.copyfile(self.agent_file(stored.seed), work_dir / f"agent_seed{stored.seed}.zip")
        tb = self.tb_dir(stored.seed)
        if tensorboard_dir is not None and tb.is_dir():
            for run_dir in sorted(tb.iterdir()):
                if run_dir.is_dir() and not run_dir.name.startswith("."):
                    shutil.copytree(run_dir, Path(tensorboard_dir) / run_dir.name, dirs_exist_ok=True)

    # writing

    def store(self, seed: int, result: SeedResult, rows: Sequence[dict[str, Any]], seconds: float,
              agent: Path | None = None, tensorboard_runs: Sequence[Path] = ()) -> None:
        """Keep one finished seed: its files first, then ``seed<S>.json`` (atomically), which commits it."""
        self.create()
        self.seed_file(seed).unlink(missing_ok=True)  # a seed kept with other settings no longer stands
        if agent is not None and agent.is_file():
            write_text_atomic(self.agent_file(seed), agent.read_bytes())
        if tensorboard_runs:
            self._store_tree(seed, tensorboard_runs)
        write_json_atomic(self.seed_file(seed), {
            "format": SEED_FORMAT, "seed": seed, "fingerprint_sha256": self.digest, "fingerprint": self.fingerprint,
            "timesteps": result.timesteps, "observation_shape": result.observation_shape,
            "seconds": round(seconds, 2), "rows": [dict(row) for row in rows],
        })
        if seed not in self.kept:
            self.kept.append(seed)

    def _store_tree(self, seed: int, runs: Sequence[Path]) -> None:
        target = self.tb_dir(seed)
        target.parent.mkdir(exist_ok=True)
        clean_stale(target)
        tmp = target.with_name(f".{target.name}{TEMP_INFIX}{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            for run_dir in runs:
                shutil.copytree(run_dir, tmp / run_dir.name)
            shutil.rmtree(target, ignore_errors=True)
            os.rename(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def interrupted_line(self) -> str | None:
        """What to print when the run is interrupted with seeds kept: how to resume."""
        if not self.kept:
            return None
        return (f"srl-bench: seeds {_seeds(sorted(self.kept))} finished and are kept in {self.path}; run the same "
                "command again to resume from them")


def tensorboard_runs(tensorboard_dir: str | None, representation_name: str, seed: int) -> list[Path]:
    """The TensorBoard run folders SB3 wrote for one seed (``<name>_seed<S>_<n>``)."""
    if tensorboard_dir is None or not Path(tensorboard_dir).is_dir():
        return []
    pattern = re.compile(rf"{re.escape(representation_name)}_seed{seed}_\d+")
    return [path for path in sorted(Path(tensorboard_dir).iterdir()) if path.is_dir() and pattern.fullmatch(path.name)]
