"""The zoo: each method is a named recipe of a backbone and loss terms, plus baselines."""

from srl_bench.config import shipped_dir
from srl_bench.methods import baselines, world_models, zoo  # noqa: F401  (register the methods in code)
from srl_bench.methods.base import METHODS, DataContext, Method, SRLModel, build_model, get_method, register_method
from srl_bench.methods.config import MethodConfig, load_method_config

zoo.register_recipes(shipped_dir("methods"))

__all__ = ["METHODS", "DataContext", "Method", "MethodConfig", "SRLModel", "build_model", "get_method",
           "load_method_config", "register_method"]
