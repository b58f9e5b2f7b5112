"""What the agent sees: a reference (ground_truth, raw_pixels, random_policy), a run directory, an
encoder or a callable (made by hand, or loaded by ``srl_bench.plugins.load_encoder`` from an import
path), resolved into a :class:`Representation`, and the env settings it needs; a learned one is checked
at the door on a few frames of the env (``srl_bench.plugins.check_encoder``) before any agent trains."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from srl_bench.errors import SrlBenchError

REFERENCES = ("ground_truth", "raw_pixels", "random_policy")


@dataclass
class Representation:
    """What the agent sees: ``kind`` is ground_truth, raw_pixels, random_policy or learned."""

    kind: str
    name: str
    encoder: Any = None
    info: dict[str, Any] = field(default_factory=dict)  # written to rl.json's "representation"
    image_size: tuple[int, int] | None = None  # the image size the encoder was trained on, when known
    env_id: str | None = None  # the env the agent acts in (for the door check)


def _image_size(shape: Any) -> tuple[int, int] | None:
    return (int(shape[0]), int(shape[1])) if shape else None


def resolve_representation(encoder_or_run: Any, env_id: str, device: torch.device) -> Representation:
    """A reference name, a run directory, an ``nn.Module`` encoder or a NumPy callable -> ``Representation``.

    An encoder loaded by ``srl_bench.plugins.load_encoder`` is named after its factory, and rl.json's
    ``representation`` records the factory and its keyword arguments.
    """
    representation = _resolve(encoder_or_run, env_id, device)
    representation.env_id = env_id
    return representation


def _resolve(encoder_or_run: Any, env_id: str, device: torch.device) -> Representation:
    if isinstance(encoder_or_run, str) and encoder_or_run in REFERENCES:
        return Representation(kind=encoder_or_run, name=encoder_or_run)
    if isinstance(encoder_or_run, (str, os.PathLike)):
        return _from_run_dir(Path(encoder_or_run), env_id, device)
    origin = getattr(encoder_or_run, "_srl_bench_origin", None)
    loaded = dict(origin) if isinstance(origin, dict) else {}
    if isinstance(encoder_or_run, nn.Module):
        encoder = encoder_or_run.to(device)
        return Representation(
            kind="learned", name=_factory_name(loaded) or type(encoder).__name__, encoder=encoder,
            info={"class": type(encoder).__name__, "state_dim": getattr(encoder, "state_dim", None), **loaded},
            image_size=_image_size(getattr(encoder, "image_shape", None)),
        )
    if callable(encoder_or_run):
        name = getattr(encoder_or_run, "__name__", type(encoder_or_run).__name__)
        return Representation(kind="learned", name=_factory_name(loaded) or name, encoder=encoder_or_run,
                              info={"callable": name, "state_dim": getattr(encoder_or_run, "state_dim", None),
                                    **loaded})
    raise SrlBenchError(f"cannot use {encoder_or_run!r} as a representation: give one of {', '.join(REFERENCES)}, "
                        "a run directory, an srl_bench.Encoder, a torch.nn.Module or a callable images -> states")


def _factory_name(origin: dict[str, Any]) -> str | None:
    """``make`` for an encoder made by the factory ``pkg.mod:make``."""
    factory = origin.get("factory")
    if not factory:
        return None
    return str(factory).rpartition(":")[2] or None


def _from_run_dir(run_dir: Path, env_id: str, device: torch.device) -> Representation:
    """The frozen encoder of a run trained on ``env_id``'s images."""
    if not run_dir.is_dir():
        raise SrlBenchError(f"representation {str(run_dir)!r} is neither one of {', '.join(REFERENCES)} "
                            "nor a run directory; train one with `srl-bench train`")
    from srl_bench.runs import load_run, read_run_config

    config = read_run_config(run_dir)
    meta = config.get("data_meta", {})
    if meta.get("env_id") and meta["env_id"] != env_id:
        raise SrlBenchError(f"the run {run_dir} was trained on {meta['env_id']} images, not {env_id}; "
                            "pass a run trained on this environment")
    encoder = load_run(run_dir, str(device))
    return Representation(
        kind="learned", name=run_dir.name, encoder=encoder,
        info={"run_dir": str(run_dir), "method": config.get("method"), "state_dim": int(encoder.state_dim),
              "run_seed": config.get("seed")},
        image_size=_image_size(meta.get("image_shape")),
    )


def env_kwargs_for(representation: Representation, env_kwargs: dict[str, Any]) -> dict[str, Any]:
    """``env_kwargs`` with the image size the encoder was trained on (refusing a different one asked
    for); a learned representation is then checked at the door on a few frames of its env with those
    kwargs (:func:`check_representation`)."""
    kwargs = dict(env_kwargs)
    if representation.image_size is not None:
        asked = kwargs.get("image_size")
        asked_hw = (asked, asked) if isinstance(asked, int) else tuple(asked) if asked is not None else None
        if asked_hw is not None and asked_hw != representation.image_size:
            raise SrlBenchError(f"the encoder was trained on {representation.image_size[0]}×"
                                f"{representation.image_size[1]} images but image_size={asked!r} was asked for; "
                                "leave image_size out")
        h, w = representation.image_size
        kwargs["image_size"] = h if h == w else [h, w]
    check_representation(representation, kwargs)
    return kwargs


def check_representation(representation: Representation, env_kwargs: dict[str, Any]) -> None:
    """The door check (``srl_bench.plugins.check_encoder``) of a learned representation on 4 frames of
    one episode of its env, stacked as the encoder's ``frame_stack`` asks; records its state size in
    ``info["state_dim"]``. Encoders that carry a memory (``encode_step``) are fed step by step by the
    agent's wrapper and are not probed here."""
    from srl_bench.rl.wrappers import is_recurrent

    encoder = representation.encoder
    if representation.kind != "learned" or representation.env_id is None or encoder is None or is_recurrent(encoder):
        return
    from srl_bench.plugins import check_encoder, env_frames

    frames = env_frames(representation.env_id, env_kwargs, frame_stack=int(getattr(encoder, "frame_stack", 1) or 1))
    representation.info["state_dim"] = check_encoder(encoder, frames, where=f"the env {representation.env_id}")
