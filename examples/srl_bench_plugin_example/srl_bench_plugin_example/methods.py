"""A trainable method with its own encoder, registered through the ``srl_bench.methods`` entry point;
srl-bench's trainer and loss terms do the rest."""

import torch
from torch import nn

import srl_bench


class TinyEncoder(srl_bench.Encoder):
    """Average-pool the image 4×, then a small MLP to the state."""

    def __init__(self, image_shape: tuple[int, int, int], state_dim: int) -> None:
        super().__init__(state_dim)
        self.image_shape = tuple(image_shape)  # srl-bench then refuses images of another size
        h, w, c = image_shape
        self.net = nn.Sequential(nn.AvgPool2d(4), nn.Flatten(), nn.Linear(c * (h // 4) * (w // 4), 64), nn.ReLU(),
                                 nn.Linear(64, state_dim))

    def embed(self, x: torch.Tensor) -> torch.Tensor:  # float N×C×H×W in [0, 1]
        return self.net(x)


@srl_bench.register_method("tiny_inverse", description="a tiny MLP encoder trained by an inverse model (plug-in example)",
                           paper="examples/srl_bench_plugin_example",
                           recipe={"losses": {"inverse": 1.0, "state_l2": 0.01}})
def build(config: srl_bench.MethodConfig, context: srl_bench.DataContext) -> srl_bench.SRLModel:
    state_dim = srl_bench.resolve_state_dim(config, context)
    encoder = TinyEncoder(context.image_shape, state_dim)
    return srl_bench.SRLModel(encoder, srl_bench.build_objective(config, context, state_dim, encoder))
