"""Benchmark configuration files (``configs/benchmarks/*.yaml``), validated on load."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from srl_bench.errors import SrlBenchError


@dataclass
class EnvEntry:
    """One environment of a benchmark and how its dataset is collected."""

    id: str
    episodes: int
    max_steps: int | None = None
    seed: int = 0
    image_size: int = 64
    policy: str = "random"
    workers: int = 1
    env_kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def slug(self) -> str:
        """A file-name-safe name, e.g. ``CartPole-v0``."""
        return self.id.split("/")[-1]


@dataclass
class BenchmarkConfig:
    """What to run: environments × methods × seeds, with shared training and evaluation settings."""

    name: str
    envs: list[EnvEntry]
    methods: list[str]
    seeds: list[int] = field(default_factory=lambda: [0])
    train: dict[str, Any] = field(default_factory=dict)  # overrides for every method
    method_overrides: dict[str, dict[str, Any]] = field(default_factory=dict)  # per method
    evaluate: dict[str, Any] = field(default_factory=dict)  # k, test_fraction, split_seed
    out: str = "results/benchmark"
    work_dir: str = ".srl-bench/benchmark"
    device: str = "auto"


_EVALUATE_KEYS = {"k", "test_fraction", "split_seed"}


def _build(cls: type, values: Any, where: str) -> Any:
    if not isinstance(values, dict):
        raise SrlBenchError(f"{where} must be a mapping, got {values!r}")
    valid = set(cls.__dataclass_fields__)
    unknown = sorted(set(values) - valid)
    if unknown:
        raise SrlBenchError(f"unknown key(s) {', '.join(unknown)} in {where}; valid keys are: {', '.join(sorted(valid))}")
    try:
        return cls(**values)
    except TypeError as exc:
        raise SrlBenchError(f"{where}: {exc}") from exc


def load_benchmark(path: str | Path) -> BenchmarkConfig:
    """Read and check a benchmark YAML."""
    path = Path(path)
    if not path.is_file():
        raise SrlBenchError(f"benchmark config {path} does not exist (see configs/benchmarks/ for examples)")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise SrlBenchError(f"{path} is not valid YAML: {exc}") from exc
    config = _build(BenchmarkConfig, raw, str(path))
    config.envs = [_build(EnvEntry, entry, f"{path}: envs[{i}]") for i, entry in enumerate(config.envs or [])]
    if not config.envs or not config.methods or not config.seeds:
        raise SrlBenchError(f"{path} must list at least one env, one method and one seed")
    unknown = sorted(set(config.evaluate) - _EVALUATE_KEYS)
    if unknown:
        raise SrlBenchError(f"unknown key(s) {', '.join(unknown)} in {path}: evaluate; valid: {', '.join(sorted(_EVALUATE_KEYS))}")
    from srl_bench.methods import get_method

    for method in [*config.methods, *config.method_overrides]:
        get_method(method)
    return config
