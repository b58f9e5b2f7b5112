"""Composable loss terms: reconstruction, KL, forward, inverse, reward, robotic priors, ..."""

from srl_bench.losses import contrastive, dynamics, priors, spatial, terms, vae, world_models  # noqa: F401  (register the terms)
from srl_bench.losses.base import LOSS_TERMS, HeadConfig, LossTerm, Objective, TermConfig, register_term
from srl_bench.losses.batch import Batch

__all__ = ["LOSS_TERMS", "Batch", "HeadConfig", "LossTerm", "Objective", "TermConfig", "register_term"]
