"""The zoo: each method is a named recipe of a backbone and loss terms, plus baselines."""

from srl_bench.methods import baselines, world_models, zoo  # noqa: F401  (register the methods)
from srl_bench.methods.base import METHODS, DataContext, Method, SRLModel, get_method, register_method
from srl_bench.methods.config import MethodConfig, RecipeConfig, load_method_config

__all__ = ["METHODS", "DataContext", "Method", "MethodConfig", "RecipeConfig", "SRLModel", "get_method",
           "load_method_config", "register_method"]
