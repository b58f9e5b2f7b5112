"""The zoo: each method is a named recipe of a backbone and loss terms, plus baselines.

Importing this package registers srl-bench's own methods (code, then ``configs/methods/*.yaml``), then
loads the installed plug-ins: the entry points of the groups ``srl_bench.losses`` and
``srl_bench.methods`` (``srl_bench.plugins``), so a separately installed package adds loss terms and
methods that ``srl-bench methods`` lists and benchmarks run.
"""

from srl_bench.config import shipped_dir
from srl_bench.methods import baselines, world_models, zoo  # noqa: F401  (register the methods in code)
from srl_bench.methods.base import (
    METHODS,
    DataContext,
    Method,
    SRLModel,
    build_model,
    build_objective,
    get_method,
    register_method,
    resolve_state_dim,
)
from srl_bench.methods.config import MethodConfig, load_method_config
from srl_bench.plugins import load_entry_points

zoo.register_recipes(shipped_dir("methods"))
load_entry_points()

__all__ = ["METHODS", "DataContext", "Method", "MethodConfig", "SRLModel", "build_model", "build_objective",
           "get_method", "load_method_config", "register_method", "resolve_state_dim"]
