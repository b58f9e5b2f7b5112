"""Stable-Baselines3 bridge: downstream RL through a frozen encoder (docs/metrics.md, "Downstream RL").

    srl_bench.rl_evaluate("runs/ae", "srl/CartPole-v0", algo="ppo", timesteps=50_000, seeds="0,1,2", out="rl/ae")

Modules, one job each: ``config`` (the hyper-parameters of an algorithm on an env), ``settings``
(the options of one call, resolved into an ``RLRun``), ``representations`` (what the agent sees),
``envs`` (the VecEnv stack), ``wrappers`` (the frozen-encoder VecEnvs), ``protocol`` (the
evaluation schedule and the score), ``agent`` (training one seed), ``results`` (rl.json, curve.csv,
the normalised score), ``format`` (the printed summary), ``runner`` (``rl_evaluate``) and
``extractor`` (``EncoderFeaturesExtractor``: any encoder inside your own SB3 agent, frozen or trained).
"""

from srl_bench.rl.config import ALGOS, RLConfig, RunnerConfig, load_rl_config
from srl_bench.rl.extractor import EncoderFeaturesExtractor
from srl_bench.rl.representations import REFERENCES
from srl_bench.rl.results import find_references, normalized_score, read_curve
from srl_bench.rl.runner import rl_evaluate
from srl_bench.rl.settings import RunOptions
from srl_bench.rl.wrappers import (
    FrozenEncoderVecEnv,
    GroundTruthObservation,
    RecurrentEncoder,
    RecurrentEncoderVecEnv,
    frozen,
    is_recurrent,
)
from srl_bench.stats import mean_ci

__all__ = [
    "ALGOS", "REFERENCES", "EncoderFeaturesExtractor", "FrozenEncoderVecEnv", "GroundTruthObservation", "RLConfig", "RecurrentEncoder",
    "RecurrentEncoderVecEnv", "RunOptions", "RunnerConfig", "find_references", "frozen", "is_recurrent",
    "load_rl_config", "mean_ci", "normalized_score", "read_curve", "rl_evaluate",
]
