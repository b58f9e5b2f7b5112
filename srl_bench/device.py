"""The one place that turns a ``--device`` string into a ``torch.device``."""

from __future__ import annotations

import torch

from srl_bench.errors import SrlBenchError


def resolve_device(device: str | torch.device) -> torch.device:
    """``auto`` -> CUDA when present, else CPU; an explicit device must exist on this machine.

    Raises ``SrlBenchError`` (one sentence) for CUDA asked for without CUDA, a CUDA index this machine
    does not have, MPS without MPS, and a name torch does not know.
    """
    if isinstance(device, torch.device):
        device = str(device)
    name = str(device).strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(name)
    except (RuntimeError, ValueError) as exc:
        raise SrlBenchError(f"unknown device {device!r}; use auto, cpu or cuda") from exc
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise SrlBenchError(f"device {device!r} was asked for but CUDA is not available here; "
                                "use --device cpu or auto")
        count = torch.cuda.device_count()
        if resolved.index is not None and resolved.index >= count:
            raise SrlBenchError(f"device {device!r} does not exist: this machine has {count} CUDA device(s), "
                                f"cuda:0 to cuda:{count - 1}; use one of them or --device auto")
    elif resolved.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise SrlBenchError(f"device {device!r} was asked for but MPS is not available here; "
                                "use --device cpu or auto")
    return resolved
