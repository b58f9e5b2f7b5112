"""Benchmark configuration files (``configs/benchmarks/*.yaml``), validated on load by the one config
system (``srl_bench.config``): every key typed, unknown keys named with the closest valid one.

A benchmark names the environments (each with how its dataset is collected), the methods (zoo
methods, or variants of one with overrides), the seeds, the training and scoring settings, and an
``rl:`` section for downstream RL; the references ``ground_truth`` and ``random_policy`` (and
``raw_pixels`` unless left out) are scored by RL beside the methods.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, NonNegativeInt, PositiveInt, field_validator, model_validator

from srl_bench.config import ConfigModel, read_yaml_mapping, shipped_file, shipped_names, validate
from srl_bench.data import SPLIT_SEED, TEST_FRACTION
from srl_bench.errors import SrlBenchError

REFERENCES = ("ground_truth", "random_policy", "raw_pixels")


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
    train: dict[str, Any] = Field(default_factory=dict)  # training overrides for this env (e.g. its epoch cap)

    @property
    def slug(self) -> str:
        """A file-name-safe name, e.g. ``CartPole-v0``."""
        return self.id.split("/")[-1]


class MethodEntry(ConfigModel):
    """A row of the leaderboard: a zoo method, possibly a variant with its own overrides.

    In YAML a bare name (``autoencoder``) is ``{name: autoencoder, method: autoencoder}``.
    """

    name: str
    method: str = ""  # default: the name
    set: dict[str, Any] = Field(default_factory=dict)  # overrides, as `srl-bench train --set` takes them

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"name": value}
        return value

    @model_validator(mode="after")
    def _default_method(self) -> "MethodEntry":
        if not self.method:
            self.method = self.name
        return self


class EvaluateSettings(ConfigModel):
    """How every run of a benchmark is scored (``srl_bench.evaluate``)."""

    k: PositiveInt = 5
    test_fraction: float = Field(TEST_FRACTION, gt=0, lt=1)
    split_seed: NonNegativeInt = SPLIT_SEED
    mlp_probe: bool = True


class RLSettings(ConfigModel):
    """Downstream RL of a benchmark: for each env listed, an agent per representation and seed."""

    algo: str = "ppo"  # for every env, unless `algos` names one for it (e.g. sac on continuous actions)
    algos: dict[str, str] = Field(default_factory=dict)  # env id -> algorithm
    timesteps: dict[str, PositiveInt] = Field(default_factory=dict)  # env id -> budget (default: the RL config's)
    envs: list[str] | None = None  # default: every env of the benchmark
    methods: list[str] | None = None  # default: every method of the benchmark
    references: list[Literal["ground_truth", "random_policy", "raw_pixels"]] = Field(default_factory=lambda: list(REFERENCES))
    seeds: list[NonNegativeInt] | None = None  # default: the benchmark's seeds
    n_eval: PositiveInt | None = None  # deterministic episodes per evaluation (default: the RL config's)
    eval_freq: PositiveInt | None = None  # env steps between evaluations (default: a tenth of the budget)
    set: dict[str, Any] = Field(default_factory=dict)  # hyper-parameter overrides for every agent

    @model_validator(mode="after")
    def _normalised_needs_both_references(self) -> "RLSettings":
        if not {"ground_truth", "random_policy"} <= set(self.references):
            raise ValueError("rl.references must include ground_truth and random_policy (the normalised score "
                             "is (R − R_random_policy) / (R_ground_truth − R_random_policy))")
        return self

    def algo_for(self, env_id: str) -> str:
        """The algorithm that trains agents on ``env_id``."""
        return self.algos.get(env_id, self.algo)


class BenchmarkConfig(ConfigModel):
    """What to run: environments × methods × seeds, scored by the metrics and by downstream RL."""

    name: str
    envs: list[EnvEntry] = Field(min_length=1)
    methods: list[MethodEntry] = Field(min_length=1)
    seeds: list[NonNegativeInt] = Field(default_factory=lambda: [0], min_length=1)
    train: dict[str, Any] = Field(default_factory=dict)  # overrides for every method
    evaluate: EvaluateSettings = Field(default_factory=EvaluateSettings)
    rl: RLSettings | None = None  # no downstream RL when absent
    out: str | None = None  # the leaderboard's folder (default: WORK_DIR/leaderboard)
    work_dir: str = ".srl-bench/benchmark"  # datasets, runs and cell results
    device: str = "auto"
    threads: PositiveInt = 1  # torch threads per cell: fixed, so results do not depend on --jobs

    @field_validator("seeds")
    @classmethod
    def _distinct_seeds(cls, values: list[int]) -> list[int]:
        return _distinct(values)

    @field_validator("methods")
    @classmethod
    def _distinct_names(cls, values: list[MethodEntry]) -> list[MethodEntry]:
        _distinct([entry.name for entry in values])
        return values

    @field_validator("envs")
    @classmethod
    def _distinct_envs(cls, values: list[EnvEntry]) -> list[EnvEntry]:
        _distinct([entry.id for entry in values])
        return values

    @model_validator(mode="after")
    def _rl_names_known(self) -> "BenchmarkConfig":
        if self.rl is None:
            return self
        clash = sorted({m.name for m in self.rl_methods()} & set(self.rl.references))
        if clash:
            raise ValueError(f"the method {clash[0]!r} has the name of an RL reference; give the method another "
                             f"name (methods: [{{name: {clash[0]}_method, method: {clash[0]}}}])")
        for key, listed, known in (("rl.envs", self.rl.envs, [e.id for e in self.envs]),
                                   ("rl.methods", self.rl.methods, [m.name for m in self.methods]),
                                   ("rl.algos", list(self.rl.algos), [e.id for e in self.envs]),
                                   ("rl.timesteps", list(self.rl.timesteps), [e.id for e in self.envs])):
            unknown = sorted(set(listed or []) - set(known))
            if unknown:
                raise ValueError(f"{key} names {', '.join(unknown)}, which the benchmark does not list "
                                 f"(it has: {', '.join(known)})")
        return self

    @property
    def rl_seeds(self) -> list[int]:
        """The seeds of the RL agents."""
        return list(self.rl.seeds or self.seeds) if self.rl is not None else []

    def rl_envs(self) -> list[EnvEntry]:
        """The envs scored by downstream RL."""
        if self.rl is None:
            return []
        return [env for env in self.envs if self.rl.envs is None or env.id in self.rl.envs]

    def rl_methods(self) -> list[MethodEntry]:
        """The methods scored by downstream RL."""
        if self.rl is None:
            return []
        return [m for m in self.methods if self.rl.methods is None or m.name in self.rl.methods]


def _distinct(values: list[Any]) -> list[Any]:
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
    """Read and check a benchmark YAML (a path, or the name of a shipped benchmark), its methods and
    their overrides included (every variant's config is built once here, so a typo fails at once)."""
    path = resolve_benchmark_path(path)
    config = validate(BenchmarkConfig, read_yaml_mapping(path, "benchmark config"), str(path))
    from srl_bench.config import merge
    from srl_bench.methods import get_method

    for entry in config.methods:
        method = get_method(entry.method)
        for env in config.envs:
            method.make_config(merge(config.train, env.train, entry.set))
    if config.rl is not None:
        from srl_bench.rl.config import algo_class

        for env in config.rl_envs():
            algo_class(config.rl.algo_for(env.id))
    return config
