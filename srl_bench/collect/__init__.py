"""Collection policies and the (parallel) dataset generation loop."""

from srl_bench.collect.generate import generate_dataset, make_env
from srl_bench.collect.policies import POLICIES, make_policy, register_policy

__all__ = ["POLICIES", "generate_dataset", "make_env", "make_policy", "register_policy"]
