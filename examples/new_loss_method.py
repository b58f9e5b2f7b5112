"""A new loss term, registered as a method, benchmarked against the zoo — without touching srl-bench.

    srl-bench benchmark examples/benchmark_with_my_method.yaml --jobs 2

The benchmark config imports this module (``imports: [new_loss_method]``, found beside the config), so
its term and its method are known before the config is checked, and in every worker process. A run of
``ae_slowness`` records this module in its ``config.json`` (``method_source``): ``srl_bench.load_run``
in a new process imports it again, as long as it can be found (installed, or on PYTHONPATH).
"""

from typing import Any

import torch
from pydantic import PositiveFloat

import srl_bench
from srl_bench import Batch, LossTerm, TermConfig


@srl_bench.register_term
class Slowness(LossTerm):
    """Slowness: E[min(‖s_t+1 − s_t‖², margin)] — the state of consecutive frames moves little."""

    name = "slowness"
    needs_next = True  # the trainer then samples transitions inside an episode

    class Config(TermConfig):
        margin: PositiveFloat = 1.0

    def __init__(self, margin: float) -> None:
        super().__init__()
        self.margin = margin

    @classmethod
    def build(cls, config: Config, context: dict[str, Any]) -> "Slowness":
        return cls(config.margin)

    def forward(self, batch: Batch) -> torch.Tensor:
        return (batch.next_state - batch.state).pow(2).sum(1).clamp(max=self.margin).mean()


# the method: srl-bench's CNN encoder trained by reconstruction + slowness (a recipe: no build code)
srl_bench.register_method(
    "ae_slowness", description="autoencoder + slowness (examples/new_loss_method.py)",
    paper="slow feature analysis as a loss: Wiskott & Sejnowski 2002; the robotic priors' temporal coherence",
    recipe={"losses": {"reconstruction": 1.0, "slowness": {"weight": 0.5, "margin": 1.0}}},
)

if __name__ == "__main__":
    from pathlib import Path

    from srl_bench.bench import run_benchmark

    out = run_benchmark(Path(__file__).with_name("benchmark_with_my_method.yaml"))
    print((out / "leaderboard.md").read_text())
