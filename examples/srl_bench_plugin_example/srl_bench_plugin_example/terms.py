"""A loss term, registered through the ``srl_bench.losses`` entry point."""

from typing import Any

import torch

import srl_bench


@srl_bench.register_term
class StateL2(srl_bench.LossTerm):
    """E[‖s‖²]: keeps the state near the origin (a weak regulariser beside another term)."""

    name = "state_l2"

    @classmethod
    def build(cls, config: srl_bench.TermConfig, context: dict[str, Any]) -> "StateL2":
        return cls()

    def forward(self, batch: srl_bench.Batch) -> torch.Tensor:
        return batch.state.pow(2).sum(1).mean()
