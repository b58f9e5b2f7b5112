"""Benchmark configuration files (``configs/benchmarks/*.yaml``), validated on load by the one config
system (``srl_bench.config``): every key typed, unknown keys named with the closest valid one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, NonNegativeInt, PositiveInt, field_validator

from srl_bench.config import ConfigModel, read_yaml_mapping, shipped_file, shipped_names, validate
from srl_bench.data import SPLIT_SEED, TEST_FRACTION
from srl_bench.errors import SrlBenchError


class EnvEntry(ConfigModel):
    """One environment of a benchmark and how its dataset is collected."""

    id: str
    episodes: PositiveInt
    max_steps: PositiveInt | None = None
    seed: NonNegativeInt = 0
    image_size: PositiveInt = 64
    policy: str = "random"
    workers: PositiveInt = 1
    env_kwargs: dict[str, Any] = Field(default_factory=dict)

    @property
    def slug(self) -> str:
        """A file-name-safe name, e.g. ``CartPole-v0``."""
        return self.id.split("/")[-1]


class EvaluateSettings(ConfigModel):
    """How every run of a benchmark is scored (``srl_bench.evaluate``)."""

    k: PositiveInt = 5
    test_fraction: float = Field(TEST_FRACTION, gt=0, lt=1)
    split_seed: NonNegativeInt = SPLIT_SEED


class BenchmarkConfig(ConfigModel):
    """What to run: environments × methods × seeds, with shared training and evaluation settings."""

    name: str
    envs: list[EnvEntry] = Field(min_length=1)
    methods: list[str] = Field(min_length=1)
    seeds: list[NonNegativeInt] = Field(default_factory=lambda: [0], min_length=1)
    train: dict[str, Any] = Field(default_factory=dict)  # overrides for every method
    method_overrides: dict[str, dict[str, Any]] = Field(default_factory=dict)  # per method
    evaluate: EvaluateSettings = Field(default_factory=EvaluateSettings)
    out: str = "results/benchmark"
    work_dir: str = ".srl-bench/benchmark"
    device: str = "auto"

    @field_validator("seeds", "methods")
    @classmethod
    def _distinct(cls, values: list[Any]) -> list[Any]:
        repeated = sorted({str(v) for v in values if values.count(v) > 1})
        if repeated:
            raise ValueError(f"each entry must appear once; repeated: {', '.join(repeated)}")
        return values


def resolve_benchmark_path(path: str | Path) -> Path:
    """A benchmark file: the path itself, else the shipped benchmark of that name (``quick``, or
    ``configs/benchmarks/quick.yaml`` from outside the repository)."""
    path = Path(path)
    if path.is_file():
        return path
    shipped = shipped_file("benchmarks", path.stem)
    if path.parent in (Path("."), Path("configs/benchmarks")) and shipped.is_file():
        return shipped
    raise SrlBenchError(f"benchmark config {path} does not exist; give a YAML file or one of the shipped "
                        f"benchmarks: {', '.join(shipped_names('benchmarks'))}")


def load_benchmark(path: str | Path) -> BenchmarkConfig:
    """Read and check a benchmark YAML (a path, or the name of a shipped benchmark)."""
    path = resolve_benchmark_path(path)
    config = validate(BenchmarkConfig, read_yaml_mapping(path, "benchmark config"), str(path))
    from srl_bench.methods import get_method

    for method in [*config.methods, *config.method_overrides]:
        get_method(method)
    return config
