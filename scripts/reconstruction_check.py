"""What an auto-encoder run reconstructs: its error beside the mean image's, on all pixels and on the object's.

    python scripts/reconstruction_check.py RUN [--data DATASET] [--out results/findings/reconstruction.json]

A pixel auto-encoder can sit on a loss plateau drawing one picture for every state: on a scene
whose moving object covers a few pixels (pendulum's rod, cart-pole's pole) that costs little. This
script encodes and decodes the run's held-out frames (the split ``srl-bench evaluate`` scores) and
reports the mean squared error per pixel against the image in [0, 1] (what the ``reconstruction``
term computes) of

- the run's reconstruction (its decoder's output as the loss reads it: linear, or through the
  sigmoid of a run recorded before the fix, docs/findings.md section 6), and
- the mean image: the per-pixel mean of the run's training frames (every frame outside its held-out
  episodes), the best constant output,

over all pixels and over the *object pixels*: those where the frame differs from the mean image by
more than ``--object-threshold`` in some channel. An auto-encoder that draws the object has an error
there far below the mean image's; one that draws the average picture has about the same. It also
reports how much the output changes from frame to frame (per pixel, the standard deviation over the
held-out frames, averaged over pixels) beside the same for the frames themselves: about 0 says the
decoder draws one image whatever the state.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch

from held_out import held_out_rows, run_parser  # first: it puts this repository on sys.path
from srl_bench.data.frames import RowFrames
from srl_bench.encoder import to_float_nchw
from srl_bench.report import write_json_atomic
from srl_bench.runs import load_model, read_run_config

BATCH = 256


def reconstruction_term(model: torch.nn.Module) -> torch.nn.Module:
    """The run's pixel reconstruction term (it holds the decoder)."""
    terms = model.objective.terms if model.objective is not None else {}
    if "reconstruction" not in terms:
        sys.exit(f"the run has no `reconstruction` loss term (terms: {', '.join(terms) or 'none'})")
    return terms["reconstruction"]


def mean_image(frames: RowFrames) -> torch.Tensor:
    """Per-pixel mean (C×H×W, in [0, 1]) of the frames."""
    total = None
    for start in range(0, len(frames), BATCH):
        batch = to_float_nchw(frames[start:start + BATCH]).sum(dim=0, dtype=torch.float64)
        total = batch if total is None else total + batch
    return (total / len(frames)).float()


@torch.no_grad()
def errors(model: torch.nn.Module, frames: RowFrames, mean: torch.Tensor, threshold: float) -> dict[str, float]:
    """Squared-error sums of the reconstruction and of the mean image, over all and over object pixels."""
    term = reconstruction_term(model)
    sums = {"reconstruction_all": 0.0, "mean_image_all": 0.0, "reconstruction_object": 0.0,
            "mean_image_object": 0.0, "pixels_all": 0, "pixels_object": 0}
    moments = {name: [torch.zeros_like(mean, dtype=torch.float64) for _ in range(2)] for name in ("output", "frames")}
    for start in range(0, len(frames), BATCH):
        images = to_float_nchw(frames[start:start + BATCH])
        output = term.decode(model.encoder.embed(images))
        object_pixels = ((images - mean).abs() > threshold).any(dim=1, keepdim=True).expand_as(images)
        own, constant = (output - images) ** 2, (mean - images) ** 2
        sums["reconstruction_all"] += float(own.sum())
        sums["mean_image_all"] += float(constant.sum())
        sums["reconstruction_object"] += float(own[object_pixels].sum())
        sums["mean_image_object"] += float(constant[object_pixels].sum())
        sums["pixels_all"] += images.numel()
        sums["pixels_object"] += int(object_pixels.sum())
        for name, values in (("output", output), ("frames", images)):
            moments[name][0] += values.sum(dim=0, dtype=torch.float64)
            moments[name][1] += (values.double() ** 2).sum(dim=0)
    count = len(frames)
    for name, (total, squares) in moments.items():
        variance = (squares / count - (total / count) ** 2).clamp(min=0)
        sums[f"{name}_std_across_frames"] = float(variance.sqrt().mean())
    return sums


def main() -> None:
    parser = run_parser(__doc__.splitlines()[0])
    parser.add_argument("--object-threshold", type=float, default=0.1,
                        help="a pixel belongs to the object where some channel differs from the mean image by more")
    args = parser.parse_args()
    torch.set_num_threads(1)
    run = Path(args.run)
    data, test_rows = held_out_rows(run, args.data)
    model = load_model(run)
    model.eval()
    frame_stack = getattr(model.encoder, "frame_stack", 1)
    train_rows = np.setdiff1d(np.arange(len(data.states)), test_rows)
    mean = mean_image(RowFrames(data, train_rows, frame_stack))
    sums = errors(model, RowFrames(data, test_rows, frame_stack), mean, args.object_threshold)
    mse = {where: {name: round(sums[f"{name}_{where}"] / sums[f"pixels_{where}"], 6)
                   for name in ("reconstruction", "mean_image")} for where in ("all", "object")}
    result = {
        "command": "python scripts/reconstruction_check.py " + " ".join(sys.argv[1:]),
        "run": str(run), "method": read_run_config(run)["method"], "held_out_frames": int(len(test_rows)),
        "object_threshold": args.object_threshold,
        "object_pixel_fraction": round(sums["pixels_object"] / sums["pixels_all"], 5),
        "mse_all_pixels": mse["all"], "mse_object_pixels": mse["object"],
        "std_across_frames": {"reconstruction": round(sums["output_std_across_frames"], 8),
                              "frames": round(sums["frames_std_across_frames"], 6)},
    }
    if args.out:
        write_json_atomic(args.out, result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
