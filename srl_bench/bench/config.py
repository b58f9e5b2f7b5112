"""Benchmark configuration files (``configs/benchmarks/*.yaml``), validated on load by the one config
system (``srl_bench.config``): every key typed, unknown keys named with the closest valid one.

A benchmark names the environments (each with how its dataset is collected), the methods (zoo
methods, or variants of one with overrides), the seeds, the training and scoring settings, and an
``rl:`` section for downstream RL; the references ``ground_truth`` and ``random_policy`` (and
``raw_pixels`` unless left out) are scored by RL beside the methods.

Plug-ins: ``imports: [my_module]`` names modules imported before the config is checked (a module
beside the config file, in the working directory, or installed), so ``methods`` may name methods they
register; ``encoders: [{name, factory: "pkg.mod:make", kwargs: {...}}]`` lists encoders of your own,
made by a factory, which are not trained: they get metrics and RL cells beside the methods.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, NonNegativeInt, PositiveInt, PrivateAttr, field_validator, model_validator

from srl_bench.config import ConfigModel, closest, read_yaml_mapping, shipped_file, shipped_names, validate
from srl_bench.data import SPLIT_SEED, TEST_FRACTION
from srl_bench.errors import SrlBenchError

REFERENCES = ("ground_truth", "random_policy", "raw_pixels")
NORMALISING = REFERENCES[:2]  # the two ends of every normalised score: both must run wherever RL does


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


def _row_name(value: str) -> str:
    if not value.strip() or "/" in value:
        raise ValueError("a leaderboard name must be non-empty and hold no '/'")
    return value


class MethodEntry(ConfigModel):
    """A row of the leaderboard: a zoo method (or one registered by a plug-in or an ``imports`` module),
    possibly a variant with its own overrides.

    In YAML a bare name (``autoencoder``) is ``{name: autoencoder, method: autoencoder}``.
    """

    name: str
    method: str = ""  # default: the name
    set: dict[str, Any] = Field(default_factory=dict)  # overrides, as `srl-bench train --set` takes them

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        return _row_name(value)

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


class EncoderEntry(ConfigModel):
    """A row of the leaderboard: an encoder of your own, made by ``factory`` (an import path
    ``module:function``, or ``file.py:function`` beside the config) called with ``kwargs``. It is not
    trained: it gets metrics and RL cells. ``seeded``: whether the factory takes the benchmark's seed
    (``seed=``, one encoder per seed); by default, whether it has a ``seed`` parameter. Unseeded, it
    is scored once (seed 0 of the leaderboard), and its RL agents use the same encoder for every seed.
    """

    name: str
    factory: str
    kwargs: dict[str, Any] = Field(default_factory=dict)
    seeded: bool | None = None

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        return _row_name(value)

    @field_validator("factory")
    @classmethod
    def _import_path(cls, value: str) -> str:
        module, sep, attribute = value.rpartition(":")
        if not sep or not module or not attribute:
            raise ValueError("must be an import path module:function, e.g. my_package.encoders:make_encoder")
        return value


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
    methods: list[str] | None = None  # default: every method and encoder of the benchmark
    references: list[Literal["ground_truth", "random_policy", "raw_pixels"]] = Field(default_factory=lambda: list(REFERENCES))
    # env id -> references not run there (e.g. raw_pixels where its agent does not fit the machine); never
    # ground_truth or random_policy, which every normalised score needs
    skip_references: dict[str, list[Literal["raw_pixels"]]] = Field(default_factory=dict)
    seeds: list[NonNegativeInt] | None = None  # default: the benchmark's seeds
    # episodes per evaluation: one count for every env, or env id -> count (default: the RL config's)
    n_eval: PositiveInt | dict[str, PositiveInt] | None = None
    eval_freq: PositiveInt | None = None  # env steps between evaluations (default: a tenth of the budget)
    set: dict[str, Any] = Field(default_factory=dict)  # hyper-parameter overrides for every agent

    @model_validator(mode="after")
    def _normalised_needs_both_references(self) -> "RLSettings":
        if not set(NORMALISING) <= set(self.references):
            raise ValueError("rl.references must include ground_truth and random_policy (the normalised score "
                             "is (R − R_random_policy) / (R_ground_truth − R_random_policy))")
        return self

    def algo_for(self, env_id: str) -> str:
        """The algorithm that trains agents on ``env_id``."""
        return self.algos.get(env_id, self.algo)

    def references_for(self, env_id: str) -> list[str]:
        """The references scored on ``env_id``: ``references`` less its ``skip_references``."""
        return [r for r in self.references if r not in self.skip_references.get(env_id, [])]

    def n_eval_for(self, env_id: str) -> int | None:
        """The episodes per evaluation on ``env_id`` (None: the RL config's)."""
        return self.n_eval.get(env_id) if isinstance(self.n_eval, dict) else self.n_eval


class BenchmarkConfig(ConfigModel):
    """What to run: environments × methods × seeds, scored by the metrics and by downstream RL."""

    name: str
    imports: list[str] = Field(default_factory=list)  # modules imported first (they register methods, terms)
    envs: list[EnvEntry] = Field(min_length=1)
    methods: list[MethodEntry] = Field(default_factory=list)
    encoders: list[EncoderEntry] = Field(default_factory=list)  # encoders of your own: scored, not trained
    seeds: list[NonNegativeInt] = Field(default_factory=lambda: [0], min_length=1)
    train: dict[str, Any] = Field(default_factory=dict)  # overrides for every method
    evaluate: EvaluateSettings = Field(default_factory=EvaluateSettings)
    rl: RLSettings | None = None  # no downstream RL when absent
    out: str | None = None  # the leaderboard's folder (default: WORK_DIR/leaderboard)
    work_dir: str = ".srl-bench/benchmark"  # datasets, runs and cell results
    device: str = "auto"
    threads: PositiveInt = 1  # torch threads per cell: fixed, so results do not depend on --jobs
    _config_dir: Path | None = PrivateAttr(default=None)  # the config file's folder (searched for imports)
    _train_only: frozenset[str] = PrivateAttr(default=frozenset())  # rows a part keeps for their runs alone

    @property
    def config_dir(self) -> Path | None:
        """The folder of the config file, where ``imports`` and ``file.py:`` factories are looked for."""
        return self._config_dir

    @property
    def train_only(self) -> frozenset[str]:
        """Methods a part of the benchmark (:func:`select_part`) keeps only because a chosen row may
        read their runs (a variant that trains alike: ``srl_bench.bench.cells.plan``), not as rows."""
        return self._train_only

    @field_validator("seeds")
    @classmethod
    def _distinct_seeds(cls, values: list[int]) -> list[int]:
        return _distinct(values)

    @field_validator("methods")
    @classmethod
    def _distinct_names(cls, values: list[MethodEntry]) -> list[MethodEntry]:
        _distinct([entry.name for entry in values])
        return values

    @model_validator(mode="after")
    def _rows(self) -> "BenchmarkConfig":
        if not self.methods and not self.encoders:
            raise ValueError("a benchmark needs at least one entry under `methods` or `encoders`")
        clash = sorted({m.name for m in self.methods} & {e.name for e in self.encoders})
        if clash:
            raise ValueError(f"{clash[0]!r} names both a method and an encoder; give each row its own name")
        _distinct([entry.name for entry in self.encoders])
        return self

    @field_validator("envs")
    @classmethod
    def _distinct_envs(cls, values: list[EnvEntry]) -> list[EnvEntry]:
        _distinct([entry.id for entry in values])
        return values

    @model_validator(mode="after")
    def _rl_names_known(self) -> "BenchmarkConfig":
        if self.rl is None:
            return self
        clash = sorted({m.name for m in [*self.rl_methods(), *self.rl_encoders()]} & set(self.rl.references))
        if clash:
            raise ValueError(f"the method {clash[0]!r} has the name of an RL reference; give the method another "
                             f"name (methods: [{{name: {clash[0]}_method, method: {clash[0]}}}])")
        rows = [m.name for m in self.methods] + [e.name for e in self.encoders]
        for key, listed, known in (("rl.envs", self.rl.envs, [e.id for e in self.envs]),
                                   ("rl.methods", self.rl.methods, rows),
                                   ("rl.algos", list(self.rl.algos), [e.id for e in self.envs]),
                                   ("rl.timesteps", list(self.rl.timesteps), [e.id for e in self.envs]),
                                   ("rl.n_eval", list(self.rl.n_eval) if isinstance(self.rl.n_eval, dict) else [],
                                    [e.id for e in self.envs]),
                                   ("rl.skip_references", list(self.rl.skip_references), [e.id for e in self.envs])):
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

    def rl_encoders(self) -> list[EncoderEntry]:
        """The encoders of your own scored by downstream RL."""
        if self.rl is None:
            return []
        return [e for e in self.encoders if self.rl.methods is None or e.name in self.rl.methods]


def select_part(config: BenchmarkConfig, envs: list[str] = (), rows: list[str] = ()) -> BenchmarkConfig:
    """The benchmark restricted to some of its environments (by id, ``srl/CartPole-v0``, or slug,
    ``CartPole-v0``) and of its rows (methods, encoders and RL references by name), in the config's
    order; empty lists keep them all. The references ``ground_truth`` and ``random_policy`` stay
    whatever ``rows`` says: every normalised score needs both. Cells keep their fingerprints, so a later
    run of the whole benchmark reuses them: the other variants of a chosen row's method stay as
    ``train_only``, so that a row that shares one's training reads its run as in the whole."""
    update: dict[str, Any] = {}
    if envs:
        known = {**{env.id: env for env in config.envs}, **{env.slug: env for env in config.envs}}
        _refuse_unknown("--env", envs, list(known), [env.id for env in config.envs])
        chosen = {known[name].id for name in envs}
        update["envs"] = [env for env in config.envs if env.id in chosen]
        if config.rl is not None:  # per-env RL settings of the others go too, so the config stays valid
            rl = config.rl
            update["rl"] = rl.model_copy(update={
                "envs": None if rl.envs is None else [e for e in rl.envs if e in chosen],
                "algos": {e: a for e, a in rl.algos.items() if e in chosen},
                "timesteps": {e: t for e, t in rl.timesteps.items() if e in chosen},
                "n_eval": ({e: n for e, n in rl.n_eval.items() if e in chosen} if isinstance(rl.n_eval, dict)
                           else rl.n_eval),
                "skip_references": {e: r for e, r in rl.skip_references.items() if e in chosen}})
    if rows:
        rl = update.get("rl", config.rl)
        references = list(rl.references) if rl is not None else []
        _refuse_unknown("--method", rows, [m.name for m in config.methods] + [e.name for e in config.encoders]
                        + references)
        recipes = {m.method for m in config.methods if m.name in rows}
        # a chosen row may share the training of another variant of its method: those stay for their runs
        update["methods"] = [m for m in config.methods if m.name in rows or m.method in recipes]
        train_only = frozenset(m.name for m in update["methods"] if m.name not in rows)
        update["encoders"] = [e for e in config.encoders if e.name in rows]
        if rl is not None:
            update["rl"] = rl.model_copy(update={
                "references": [r for r in references if r in rows or r in NORMALISING],
                "methods": None if rl.methods is None else [m for m in rl.methods if m in rows]})
    selected = config.model_copy(update=update)
    selected._config_dir = config.config_dir
    selected._train_only = train_only if rows else config.train_only
    return selected


def _refuse_unknown(option: str, names: list[str], known: list[str], listed: list[str] | None = None) -> None:
    unknown = [name for name in names if name not in known]
    if unknown:
        raise SrlBenchError(f"{option} {unknown[0]!r} is not one of the benchmark's "
                            f"{'environments' if option == '--env' else 'rows'}{closest(unknown[0], known)}; "
                            f"it has: {', '.join(listed or known)}")


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


EXTENDED_LISTS = ("imports", "methods", "encoders")  # what a benchmark that `extends` another adds to


def read_benchmark_values(path: Path, extended_by: tuple[Path, ...] = ()) -> dict[str, Any]:
    """A benchmark YAML's keys, over those of the benchmark it names under ``extends`` (a shipped name or a
    YAML file beside it, itself read this way): a key it sets replaces the base's, except ``imports``,
    ``methods`` and ``encoders``, whose lists it adds to. So a file of a few lines joins a published
    benchmark with rows of its own, and every cell the two share keeps its fingerprint."""
    values = read_yaml_mapping(path, "benchmark config")
    if "extends" not in values:
        return values
    base_name = values.pop("extends")
    if not isinstance(base_name, str) or not base_name.strip():
        raise SrlBenchError(f"{path}: key 'extends' must name a benchmark (a shipped one, e.g. standard, or a YAML "
                            f"file), got {base_name!r}")
    beside = path.parent / base_name
    try:
        base_path = beside if beside.is_file() else resolve_benchmark_path(base_name)
    except SrlBenchError as exc:
        raise SrlBenchError(f"{path}: 'extends': {exc}") from None
    chain = (*extended_by, path.resolve())
    if base_path.resolve() in chain:
        names = " -> ".join(p.name for p in (*chain, base_path))
        raise SrlBenchError(f"{path}: 'extends' goes round in a circle ({names}); name a benchmark that does not "
                            "extend this one")
    base = read_benchmark_values(base_path, chain)
    merged = {**base, **values}
    for key in EXTENDED_LISTS:
        if isinstance(base.get(key), list) and isinstance(values.get(key), list):
            merged[key] = [*base[key], *values[key]]
    return merged


def import_benchmark_modules(imports: Any, path: Path) -> None:
    """Import the modules of a benchmark's ``imports`` (beside the config file, in the working
    directory, or installed), so the methods and loss terms they register can be named."""
    if not isinstance(imports, list) or not all(isinstance(name, str) and name.strip() for name in imports):
        raise SrlBenchError(f"{path}: key 'imports' must be a list of module names (e.g. [my_methods]), got {imports!r}")
    from srl_bench.plugins import import_module

    for name in imports:
        import_module(name, "benchmark", paths=[path.parent])


def load_benchmark(path: str | Path) -> BenchmarkConfig:
    """Read and check a benchmark YAML (a path, or the name of a shipped benchmark), its methods and
    their overrides included (every variant's config is built once here, so a typo fails at once).

    The modules of ``imports`` are imported first; the factories of ``encoders`` are imported and
    checked to take their ``kwargs`` (they are called only by the cells that score them)."""
    path = resolve_benchmark_path(path)
    values = read_benchmark_values(path)
    import_benchmark_modules(values.get("imports", []), path)
    config = validate(BenchmarkConfig, values, str(path))
    config._config_dir = path.parent.resolve()
    from srl_bench.config import merge
    from srl_bench.methods import get_method
    from srl_bench.plugins import check_factory, takes_seed

    for entry in config.methods:
        method = get_method(entry.method)
        for env in config.envs:
            method.make_config(merge(config.train, env.train, entry.set))
    for encoder in config.encoders:
        factory = check_factory(encoder.factory, encoder.kwargs, paths=[path.parent])
        if encoder.seeded is None:
            encoder.seeded = takes_seed(factory)
        if encoder.seeded:
            check_factory(encoder.factory, {**encoder.kwargs, "seed": 0}, paths=[path.parent])
    if config.rl is not None:
        from srl_bench.rl.config import algo_class

        for env in config.rl_envs():
            algo_class(config.rl.algo_for(env.id))
    return config
