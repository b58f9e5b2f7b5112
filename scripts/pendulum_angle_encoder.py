"""An oracle for srl/Pendulum-v0: the rod's angle read off the frame, with no velocity unless asked.

    srl-bench rl --env srl/Pendulum-v0 --encoder scripts/pendulum_angle_encoder.py:make \
        --encoder-kwargs frames=1 --algo sac --timesteps 20000 ...

An ablation, not a method. The rod is the frame's only dark object and turns about the image's
centre, so the centroid of its pixels gives θ exactly (cos θ and sin θ correlate with the true ones
at 0.99999 on the standard dataset). ``frames=1`` states (cos θ_t, sin θ_t): the angle without θ̇,
what an encoder that codes no velocity at best gives. ``frames=2`` adds the previous frame's angle
(θ̇ ≈ (θ_t − θ_{t−1}) / dt), what a 2-frame encoder can at best give. An agent on each tells whether
the downstream RL score can tell an encoder that codes θ̇ from one that does not.
"""

from __future__ import annotations

import torch

from srl_bench.encoder import Encoder

DARK = 0.5  # the rod is drawn dark on a white background


def rod_angle(images: torch.Tensor) -> torch.Tensor:
    """(cos θ, sin θ) of each float N×3×H×W frame, θ = −atan2(x̄ − c, c − ȳ) from the rod pixels'
    centroid (x̄, ȳ) and the image centre c (θ = 0 upright, as the env's state has it)."""
    dark = (images.mean(dim=1) < DARK).float()
    height, width = dark.shape[1:]
    ys = torch.arange(height, dtype=torch.float32).view(1, -1, 1)
    xs = torch.arange(width, dtype=torch.float32).view(1, 1, -1)
    count = dark.sum(dim=(1, 2)).clamp(min=1.0)
    y_mean = (dark * ys).sum(dim=(1, 2)) / count
    x_mean = (dark * xs).sum(dim=(1, 2)) / count
    theta = -torch.atan2(x_mean - (width - 1) / 2, (height - 1) / 2 - y_mean)
    return torch.stack([torch.cos(theta), torch.sin(theta)], dim=1)


class PendulumAngleEncoder(Encoder):
    """The angle of the last ``frames`` frames, newest first: 2 × ``frames`` numbers."""

    def __init__(self, frames: int) -> None:
        super().__init__(2 * frames)
        self.frame_stack = frames

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        newest = rod_angle(x[:, -3:])
        angles = [newest]
        for k in range(2, self.frame_stack + 1):
            frame = x[:, -3 * k: x.shape[1] - 3 * (k - 1)]
            # before an episode's first frame the stack holds black frames: repeat the newest angle
            black = frame.amax(dim=(1, 2, 3)) < DARK
            angles.append(torch.where(black[:, None], newest, rod_angle(frame)))
        return torch.cat(angles, dim=1)


def make(frames: int = 1) -> PendulumAngleEncoder:
    """The oracle reading the last ``frames`` (1 or 2) frames."""
    if frames not in (1, 2):
        raise ValueError(f"frames must be 1 or 2, got {frames}")
    return PendulumAngleEncoder(frames).eval()
