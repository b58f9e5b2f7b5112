"""Stable-Baselines3 bridge: downstream RL through a frozen encoder (specs/metrics.md, "Downstream RL").

    srl_bench.rl_evaluate("runs/ae", "srl/CartPole-v0", algo="ppo", timesteps=50_000, seeds="0,1,2", out="rl/ae")
"""

from srl_bench.rl.config import ALGOS, RLConfig, load_rl_config
from srl_bench.rl.runner import REFERENCES, find_references, read_curve, rl_evaluate
from srl_bench.rl.stats import mean_ci, normalized_score
from srl_bench.rl.wrappers import (
    FrozenEncoderVecEnv,
    GroundTruthObservation,
    RecurrentEncoder,
    RecurrentEncoderVecEnv,
    frozen,
    is_recurrent,
)

__all__ = [
    "ALGOS", "REFERENCES", "FrozenEncoderVecEnv", "GroundTruthObservation", "RLConfig", "RecurrentEncoder",
    "RecurrentEncoderVecEnv", "find_references", "frozen", "is_recurrent", "load_rl_config", "mean_ci",
    "normalized_score", "read_curve", "rl_evaluate",
]
