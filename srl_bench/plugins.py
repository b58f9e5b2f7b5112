"""Plug-ins: encoders and methods from outside srl-bench, loaded by import path or entry point, and
checked at the door.

- ``load_object("pkg.mod:name")`` / ``load_encoder("pkg.mod:factory", kwargs)``: an object by its
  import path (``module:attribute``; the module may also be a ``path/to/file.py``), and an encoder
  made by calling a factory with keyword arguments.
- ``check_encoder(encoder, images) -> state_dim``: one small batch through the encoder, the way
  scoring and RL call it, before any scoring; every problem is one ``SrlBenchError`` sentence.
- Entry points: installed packages add loss terms (group ``srl_bench.losses``) and methods (group
  ``srl_bench.methods``); each entry point names a module (importing it registers what it defines) or
  a callable (called with no arguments; it may return a ``Method`` or a list of them). They are loaded
  when ``srl_bench.methods`` is imported; a broken plug-in is reported (``PLUGIN_ERRORS``, and by
  ``srl-bench methods``), never fatal.
- ``import_method_source``: a run records the module its method came from (``config.json``'s
  ``method_source``); a new process that does not know the method imports that module.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.util
import inspect
import os
import sys
import traceback
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from srl_bench.config import closest
from srl_bench.errors import SrlBenchError

METHOD_GROUP = "srl_bench.methods"
LOSS_GROUP = "srl_bench.losses"
ENTRY_POINT_GROUPS = (LOSS_GROUP, METHOD_GROUP)  # terms first: a plug-in's methods may use its terms
PROBE_FRAMES = 4  # images of the door check
LAYOUT = "uint8 N×H×W×C (channels last, values 0..255)"

PLUGIN_ERRORS: list[str] = []  # one sentence per entry point that failed to load
_loaded_groups: set[str] = set()
_loading: dict[str, str] | None = None  # the entry point being loaded: {"distribution", "entry_point"}


# --- importing by path ---------------------------------------------------------------------------------

def _where(exc: BaseException) -> str:
    """`` (file.py, line 12)``: the innermost frame of a traceback outside the installed libraries and
    srl-bench itself, to point at the user's code."""
    frames = traceback.extract_tb(exc.__traceback__)
    library = (os.sep + "site-packages" + os.sep, os.sep + "dist-packages" + os.sep, str(Path(os.__file__).parent) + os.sep,
               str(Path(__file__).parent) + os.sep)
    own = [frame for frame in frames if not any(part in frame.filename for part in library)]
    frame = (own or frames or [None])[-1]
    return f" ({Path(frame.filename).name}, line {frame.lineno})" if frame is not None else ""


def describe_exception(exc: BaseException) -> str:
    """``ValueError ('bad shape') (mine.py, line 3)``: an exception in a few words, for one sentence."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if len(text) > 160:
        text = text[:157] + "..."
    return f"{type(exc).__name__}" + (f" ({text!r})" if text else "") + _where(exc)


def _add_search_paths(paths: Sequence[str | Path]) -> None:
    """Append ``paths`` and the working directory to ``sys.path`` (after everything installed), so a
    module beside a benchmark config or in the folder the command runs from can be imported."""
    for path in [*paths, os.getcwd()]:
        text = str(Path(path).resolve())
        if text not in sys.path:
            sys.path.append(text)


def _import_file(path: Path, what: str) -> ModuleType:
    if not path.is_file():
        raise SrlBenchError(f"the {what} file {path} does not exist")
    name = path.stem
    existing = sys.modules.get(name)
    if existing is not None and getattr(existing, "__file__", None) and Path(existing.__file__).resolve() == path.resolve():
        return existing
    _add_search_paths([path.parent])
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SrlBenchError(f"the {what} file {path} cannot be imported as a Python module (is it a .py file?)")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except SrlBenchError:
        sys.modules.pop(name, None)
        raise
    except Exception as exc:
        sys.modules.pop(name, None)
        raise SrlBenchError(f"importing the {what} file {path} raised {describe_exception(exc)}; fix the file") from None
    return module


def import_module(name: str, what: str = "plug-in", paths: Sequence[str | Path] = ()) -> ModuleType:
    """Import a module by name (or a ``.py`` file by path), with the working directory and ``paths``
    searched after the installed packages; a failure is one sentence naming the module."""
    if name.endswith(".py") or "/" in name or os.sep in name:
        candidates = [Path(name), *(Path(folder) / name for folder in paths)]
        return _import_file(next((c for c in candidates if c.is_file()), Path(name)), what)
    _add_search_paths(paths)
    try:
        return importlib.import_module(name)
    except SrlBenchError:
        raise
    except ModuleNotFoundError as exc:
        missing = exc.name or name
        if name == missing or name.startswith(missing + "."):
            raise SrlBenchError(f"cannot import the {what} module {name!r} (no module named {missing!r}); install the "
                                "package that provides it, or run from the folder that holds it (or add that folder "
                                "to PYTHONPATH)") from None
        raise SrlBenchError(f"the {what} module {name!r} needs the module {missing!r}, which is not installed; "
                            f"install it (pip install {missing.split('.')[0]})") from None
    except Exception as exc:
        raise SrlBenchError(f"importing the {what} module {name!r} raised {describe_exception(exc)}; fix the module") from None


def load_object(spec: str, what: str = "encoder factory", paths: Sequence[str | Path] = ()) -> Any:
    """The object at an import path ``module:attribute`` (``my_pkg.encoders:make``; the attribute may be
    dotted, ``mod:Class.build``; the module may be a ``.py`` file)."""
    module_name, sep, attribute = str(spec).rpartition(":")
    if not sep or not module_name or not attribute:
        raise SrlBenchError(f"the {what} {spec!r} must be an import path module:name, e.g. my_package.encoders:make_encoder")
    obj: Any = import_module(module_name, what, paths)
    for part in attribute.split("."):
        if not hasattr(obj, part):
            public = [n for n in dir(obj) if not n.startswith("_")]
            raise SrlBenchError(f"{module_name} has no {part!r}{closest(part, public)}, so the {what} {spec!r} cannot "
                                "be loaded; check the name after the colon")
        obj = getattr(obj, part)
    return obj


def source_digest(path: str | Path | None) -> str | None:
    """SHA-256 of a source file (None when there is none)."""
    if path is None or not Path(path).is_file():
        return None
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:20]


def module_file(module: str | ModuleType) -> str | None:
    """The source file of a module (imported or not), or None."""
    if isinstance(module, ModuleType):
        return getattr(module, "__file__", None)
    loaded = sys.modules.get(module)
    if loaded is not None:
        return getattr(loaded, "__file__", None)
    try:
        found = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    return found.origin if found is not None and found.has_location else None


# --- encoders --------------------------------------------------------------------------------------------

def takes_seed(factory: Callable[..., Any]) -> bool:
    """Whether a factory has a ``seed`` parameter (then a benchmark makes one encoder per seed)."""
    try:
        parameters = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return False
    return "seed" in parameters


def check_factory(spec: str, kwargs: Mapping[str, Any] | None = None, paths: Sequence[str | Path] = ()) -> Callable[..., Any]:
    """The factory at ``spec``, checked to accept ``kwargs`` (without calling it)."""
    from torch import nn

    factory = load_object(spec, "encoder factory", paths)
    kwargs = dict(kwargs or {})
    if isinstance(factory, nn.Module):
        if kwargs:
            raise SrlBenchError(f"{spec} is an encoder, not a factory, so it takes no keyword arguments; drop them "
                                "or name a function that builds the encoder")
        return factory
    if not callable(factory):
        raise SrlBenchError(f"{spec} is a {type(factory).__name__}, not a factory; name a function (or class) that "
                            "returns the encoder")
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):
        return factory
    try:
        signature.bind(**kwargs)
    except TypeError as exc:
        raise SrlBenchError(f"the encoder factory {spec}{signature} cannot be called with "
                            f"{kwargs or 'no arguments'} ({exc}); a factory is called with the keyword arguments "
                            "given (--encoder-kwargs KEY=VALUE, or `kwargs:` in a benchmark) and returns the encoder "
                            "(for a plain function encoder write `def make(): return my_function`)") from None
    return factory


def load_encoder(spec: str, kwargs: Mapping[str, Any] | None = None, paths: Sequence[str | Path] = ()) -> Any:
    """The encoder made by the factory at import path ``spec`` (``pkg.mod:make``), called with ``kwargs``.

    The factory returns an ``srl_bench.Encoder``, any ``torch.nn.Module`` mapping uint8 N×H×W×C images
    to N×K states, or a plain callable doing the same on NumPy arrays; an ``nn.Module`` instance named
    directly is used as it is. The encoder is not checked here (``check_encoder`` does that on data).
    """
    from torch import nn

    factory = check_factory(spec, kwargs, paths)
    kwargs = dict(kwargs or {})
    if isinstance(factory, nn.Module):
        encoder = factory
    else:
        try:
            encoder = factory(**kwargs)
        except SrlBenchError:
            raise
        except Exception as exc:
            raise SrlBenchError(f"the encoder factory {spec} raised {describe_exception(exc)}; fix the factory or "
                                "its keyword arguments") from None
    if encoder is None:
        raise SrlBenchError(f"the encoder factory {spec} returned None; it must return the encoder (an "
                            "srl_bench.Encoder, a torch.nn.Module or a callable images -> states)")
    if not callable(encoder):
        raise SrlBenchError(f"the encoder factory {spec} returned a {type(encoder).__name__}, which cannot be called "
                            "on images; it must return an srl_bench.Encoder, a torch.nn.Module or a callable")
    origin = {"factory": str(spec), "kwargs": kwargs}
    with contextlib.suppress(AttributeError, TypeError):
        encoder._srl_bench_origin = origin  # read by the RL representation (rl.json names the factory)
    return encoder


def call_encoder(encoder: Any, images: np.ndarray) -> Any:
    """The encoder's raw output on ``images`` (uint8 N×H×W×C), called the way scoring and RL call it:
    an ``nn.Module`` in eval mode without gradients (its mode restored after), given a uint8 tensor on
    its device (an ``srl_bench.Encoder`` the array itself); a plain callable the NumPy array."""
    import torch
    from torch import nn

    from srl_bench.encoder import Encoder

    if not isinstance(encoder, nn.Module):
        return encoder(np.array(images))
    was_training = encoder.training
    encoder.eval()
    try:
        with torch.no_grad():
            if isinstance(encoder, Encoder):
                return encoder(np.array(images))
            device = next((t.device for t in [*encoder.parameters(), *encoder.buffers()]), torch.device("cpu"))
            return encoder(torch.as_tensor(np.array(images), device=device))
    finally:
        encoder.train(was_training)


def _as_states(out: Any, n: int, shape: str) -> np.ndarray:
    """An encoder's output as a float64 (n, K) array, or one sentence saying what is wrong with it."""
    import torch

    expected = "an (N, K) array of numbers, one row (state) per image"
    if out is None:
        raise SrlBenchError(f"the encoder returned None for {shape} images; it must return {expected} (a missing "
                            "`return`?)")
    if isinstance(out, tuple):
        raise SrlBenchError(f"the encoder returned a tuple of {len(out)} items for {shape} images; it must return "
                            f"one array, {expected}")
    if isinstance(out, torch.Tensor):
        out = out.detach().cpu()
        if out.is_complex():
            raise SrlBenchError(f"the encoder returned states of dtype {str(out.dtype).removeprefix('torch.')}; "
                                f"states must be real numbers, {expected}")
        array = (out.float() if out.dtype in (torch.bfloat16, torch.float16) else out).numpy()
    else:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                array = np.asarray(out)
        except (ValueError, TypeError):
            raise SrlBenchError(f"the encoder's output for {shape} images (a {type(out).__name__}) does not form an "
                                f"array (rows of different lengths?); it must return {expected}") from None
    kind = array.dtype.kind
    if kind not in "biuf":
        what = {"c": "complex numbers", "U": "strings", "S": "bytes", "O": "Python objects (None, or rows of "
                "different lengths?)", "M": "dates", "m": "time spans"}.get(kind, f"dtype {array.dtype}")
        raise SrlBenchError(f"the encoder returned {what} (dtype {array.dtype}) for {shape} images; it must return "
                            f"{expected}")
    if array.ndim == 0:
        raise SrlBenchError(f"the encoder returned one number for {shape} images; it must return {expected}")
    if array.shape[0] != n:
        raise SrlBenchError(f"the encoder returned {array.shape[0]} rows (shape {tuple(array.shape)}) for {shape} "
                            f"images; it must return {expected}")
    array = array.reshape(n, -1).astype(np.float64)
    if array.shape[1] == 0:
        raise SrlBenchError(f"the encoder returned states with 0 columns (shape {(n, 0)}) for {shape} images; a "
                            "state needs at least one number per image")
    return array


def check_encoder(encoder: Any, images: np.ndarray, where: str = "",
                  encode: Callable[[np.ndarray], Any] | None = None) -> int:
    """The door check: one small batch through ``encoder`` before any scoring; returns its state size K.

    ``images`` are a few frames (uint8 N×H×W×C, as the envs and datasets give them; ``where`` says
    whence, for the messages). The encoder is called as scoring calls it (``call_encoder``, or
    ``encode`` when given): twice on the images and once on their first half. Refused, each with one
    ``SrlBenchError`` sentence: an exception on this layout, None, a tuple or a non-numeric output
    (strings, complex, objects), a number of rows other than N, a shape that does not flatten to (N, K),
    0 columns, NaN or infinite values, states that change between two calls on the same images
    (training mode, dropout, noise), states that depend on the other images of the batch, and a width
    other than the encoder's declared ``state_dim``. An encoder's own ``SrlBenchError`` (e.g. an image
    size it does not take) goes through unchanged.
    """
    images = np.asarray(images)
    n = len(images)
    if images.ndim != 4 or n == 0:
        raise SrlBenchError(f"the door check needs a batch of images N×H×W×C, got shape {images.shape}")
    shape = "×".join(map(str, images.shape))
    layout = f"{shape} {LAYOUT}" + (f" from {where}" if where else "")
    call = encode or (lambda batch: call_encoder(encoder, batch))

    def states(batch: np.ndarray) -> np.ndarray:
        batch_shape = "×".join(map(str, batch.shape)) + " uint8"
        try:
            out = call(batch.copy())
        except SrlBenchError:
            raise
        except Exception as exc:
            raise SrlBenchError(f"the encoder raised {describe_exception(exc)} on a batch of {layout}; srl-bench "
                                "gives every encoder that layout (a torch module a uint8 tensor, a function a NumPy "
                                "array), so convert inside the encoder") from None
        return _as_states(out, len(batch), batch_shape)

    first = states(images)
    k = first.shape[1]
    bad = np.argwhere(~np.isfinite(first))
    if len(bad):
        row, column = bad[0]
        raise SrlBenchError(f"the encoder returned NaN or infinite states on ordinary frames ({layout}; row {row}, "
                            f"column {column} is {first[row, column]}); states must be finite numbers")
    scale = max(1.0, float(np.abs(first).max()))
    second = states(images)
    if second.shape != first.shape or not np.allclose(first, second, rtol=1e-4, atol=1e-5 * scale):
        difference = "a different shape" if second.shape != first.shape else \
            f"largest difference {float(np.abs(first - second).max()):.3g}"
        raise SrlBenchError(f"the encoder gave different states on two calls on the same {n} images ({difference}); "
                            "a state must be a function of the image, so switch off dropout and noise at inference "
                            "(a torch module left in training mode? call .eval())")
    if n > 1:
        half = states(images[: n // 2])
        if half.shape[1] != k:
            raise SrlBenchError(f"the encoder returned {half.shape[1]} columns for {n // 2} images but {k} for {n}; "
                                "the width of the state must not depend on the batch")
        if not np.allclose(half, first[: n // 2], rtol=1e-3, atol=1e-4 * scale):
            raise SrlBenchError(f"the state of an image changes with the other images of its batch (largest "
                                f"difference {float(np.abs(half - first[: n // 2]).max()):.3g}); encode each image "
                                "on its own (batch statistics in training mode? call .eval())")
    declared = getattr(encoder, "state_dim", None)
    if isinstance(declared, (int, np.integer)) and not isinstance(declared, bool) and int(declared) != k:
        relation = "more" if k > declared else "fewer"
        raise SrlBenchError(f"the encoder returns {k} numbers per image, {relation} than its declared state_dim "
                            f"{int(declared)}; make state_dim the width of its output")
    return int(k)


def probe_rows(n_rows: int, count: int = PROBE_FRAMES) -> np.ndarray:
    """Up to ``count`` distinct rows spread over ``n_rows``."""
    return np.unique(np.linspace(0, max(0, n_rows - 1), min(count, n_rows)).astype(np.int64))


def check_on_dataset(encoder: Any, dataset: Any) -> int:
    """``check_encoder`` on a few frames of ``dataset`` (stacked as the encoder's ``frame_stack`` asks;
    through ``encode_dataset`` for an encoder that encodes whole episodes)."""
    from srl_bench.data.frames import RowFrames

    rows = probe_rows(len(dataset))
    frames = RowFrames(dataset, rows, int(getattr(encoder, "frame_stack", 1) or 1))[:]
    encode = None
    if hasattr(encoder, "encode_dataset"):
        def encode(batch: np.ndarray) -> Any:
            return encoder.encode_dataset(dataset, rows[: len(batch)])
    return check_encoder(encoder, frames, where=f"the dataset {dataset.path}", encode=encode)


def env_frames(env_id: str, env_kwargs: Mapping[str, Any] | None = None, count: int = PROBE_FRAMES,
               frame_stack: int = 1, seed: int = 0) -> np.ndarray:
    """``count`` frames of one episode of ``env_id`` (a reset, then seeded random actions), stacked as
    SB3's ``VecFrameStack`` stacks them for an encoder with ``frame_stack > 1``."""
    from srl_bench.collect import make_env
    from srl_bench.data.frames import stacked_rows

    env = make_env(env_id, **dict(env_kwargs or {}))
    try:
        obs, _ = env.reset(seed=seed)
        env.action_space.seed(seed)
        frames = [np.asarray(obs)]
        while len(frames) < count:
            obs, _, terminated, truncated, _ = env.step(env.action_space.sample())
            frames.append(np.asarray(obs))
            if terminated or truncated:
                break
    finally:
        env.close()
    observations = np.stack(frames)
    if frame_stack > 1:
        observations = stacked_rows(observations, np.zeros(len(observations), np.int64),
                                    np.arange(len(observations)), frame_stack)
    return observations


# --- entry points ----------------------------------------------------------------------------------------

def loading_origin() -> dict[str, str] | None:
    """The entry point being loaded now (``distribution``, ``entry_point``), or None."""
    return dict(_loading) if _loading is not None else None


def _register_returned(value: Any) -> None:
    from srl_bench.methods.base import Method, register_method

    for item in value if isinstance(value, (list, tuple)) else [value]:
        if isinstance(item, Method):
            register_method(item)


def load_entry_point(entry_point: Any) -> None:
    """Load one entry point: a module is imported (it registers what it defines); a callable is called
    with no arguments, and the ``Method``s it returns are registered."""
    global _loading
    distribution = getattr(getattr(entry_point, "dist", None), "name", None) or "?"
    previous, _loading = _loading, {"distribution": distribution,
                                    "entry_point": f"{entry_point.name} = {entry_point.value}"}
    try:
        obj = entry_point.load()
        if isinstance(obj, ModuleType) or getattr(obj, "_srl_bench_registered", False):
            return
        from srl_bench.losses.base import LossTerm
        from srl_bench.methods.base import Method

        if isinstance(obj, type) and issubclass(obj, LossTerm):
            from srl_bench.losses.base import register_term

            register_term(obj)
        elif isinstance(obj, Method):
            _register_returned(obj)
        elif callable(obj):
            _register_returned(obj())
    finally:
        _loading = previous


def load_entry_points(groups: Sequence[str] = ENTRY_POINT_GROUPS) -> list[str]:
    """Load every installed plug-in of ``groups`` once per process; returns the new error sentences
    (also kept in ``PLUGIN_ERRORS`` and given as a warning): a broken plug-in does not stop srl-bench."""
    from importlib.metadata import entry_points

    errors: list[str] = []
    for group in groups:
        if group in _loaded_groups:
            continue
        _loaded_groups.add(group)
        for entry_point in sorted(entry_points(group=group), key=lambda ep: (ep.name, ep.value)):
            try:
                load_entry_point(entry_point)
            except Exception as exc:  # noqa: BLE001 - one broken plug-in must not break the others
                distribution = getattr(getattr(entry_point, "dist", None), "name", None) or "?"
                reason = str(exc) if isinstance(exc, SrlBenchError) else describe_exception(exc)
                errors.append(f"the plug-in {distribution} (entry point {group}: {entry_point.name} = "
                              f"{entry_point.value}) failed to load: {reason}")
    for error in errors:
        warnings.warn(error, RuntimeWarning, stacklevel=2)
    PLUGIN_ERRORS.extend(errors)
    return errors


# --- where a method comes from -----------------------------------------------------------------------------

SCRIPT_MODULES = ("__main__", "__mp_main__")


def import_method_source(method: str, source: Any, run_dir: str | Path) -> None:
    """Make the method ``method`` of a run known by importing the module its run recorded
    (``method_source``: ``module``, ``file``, ``distribution``); one sentence when that is impossible."""
    from srl_bench.methods.base import METHODS

    again = "train it again with `srl-bench train`"
    module = source.get("module") if isinstance(source, dict) else None
    builtin = isinstance(module, str) and module.split(".")[0] == "srl_bench" and not source.get("distribution")
    if not isinstance(module, str) or builtin:  # an old run, or one of srl-bench's own methods
        yours = "" if isinstance(module, str) else " (if the method is yours, import its module first)"
        raise SrlBenchError(f"{run_dir} was trained with the method {method!r}, which this srl-bench does not know"
                            f"{closest(method, METHODS)}; {again} with one of: {', '.join(sorted(METHODS))}{yours}")
    file, distribution = source.get("file"), source.get("distribution")
    if module in SCRIPT_MODULES:
        raise SrlBenchError(f"{run_dir} was trained with the method {method!r}, defined in the script {file or '?'} "
                            "run as the main program, which another process cannot import; move the method into a "
                            "module and import it before loading the run")
    try:
        import_module(module, "method")
    except SrlBenchError as exc:
        # a top-level module that was imported from its file (``imports: [file.py]``, or a module beside a
        # benchmark config): its file, where it still is; never a part of an installed package
        if not distribution and file and Path(file).is_file() and Path(file).stem == module:
            import_module(str(file), "method")
        else:
            install = f"pip install {distribution}" if distribution else "install the package that provides it"
            raise SrlBenchError(f"{run_dir} was trained with the method {method!r} from the module {module!r}, which "
                                f"cannot be imported here; {install} (or add its folder to PYTHONPATH) and load the "
                                "run again") from exc
    if method not in METHODS:
        raise SrlBenchError(f"{run_dir} was trained with the method {method!r} from the module {module!r}, which was "
                            f"imported but registers no method of that name; restore it there, or {again}")
