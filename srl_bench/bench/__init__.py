"""Benchmark runner (cells, backends), leaderboard aggregation and reports."""

from srl_bench.bench.config import BenchmarkConfig, EnvEntry, MethodEntry, RLSettings, load_benchmark
from srl_bench.bench.leaderboard import bootstrap_ci, leaderboard, leaderboard_markdown
from srl_bench.bench.runner import run_benchmark

__all__ = ["BenchmarkConfig", "EnvEntry", "MethodEntry", "RLSettings", "bootstrap_ci", "leaderboard",
           "leaderboard_markdown", "load_benchmark", "run_benchmark"]
