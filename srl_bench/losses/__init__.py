"""Composable loss terms: reconstruction, KL, forward, inverse, reward, robotic priors, ...

Every module of this package is imported here, so a term registers itself (``@register_term``) by
existing: adding a term is adding one module.
"""

import importlib
import pkgutil

from srl_bench.losses.base import LOSS_TERMS, HeadConfig, LossTerm, Objective, TermConfig, register_term
from srl_bench.losses.batch import Batch

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["LOSS_TERMS", "Batch", "HeadConfig", "LossTerm", "Objective", "TermConfig", "register_term"]
