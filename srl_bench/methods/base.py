"""What a method is: a named recipe that builds an encoder and the objective it trains with."""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
from torch import nn

from srl_bench.encoder import Encoder
from srl_bench.config import unknown_name
from srl_bench.errors import SrlBenchError
from srl_bench.losses import LOSS_TERMS, Objective
from srl_bench.methods.config import MethodConfig, load_method_config


class SRLModel(nn.Module):
    """An encoder plus the objective (loss terms and their heads) it is trained with."""

    def __init__(self, encoder: Encoder, objective: Objective | None = None) -> None:
        super().__init__()
        self.encoder = encoder
        self.objective = objective


@dataclass
class DataContext:
    """Facts about the training data that a method needs to build its networks."""

    image_shape: tuple[int, int, int]
    true_state_dim: int
    discrete_actions: bool
    action_dim: int  # number of actions if discrete, else the action vector's length
    train_states: np.ndarray  # true states of (a sample of) the training frames
    train_rewards: np.ndarray | None = None  # rewards of the training transitions (None when reloading)
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_meta(cls, meta: dict[str, Any], train_states: np.ndarray | None = None,
                  train_rewards: np.ndarray | None = None) -> "DataContext":
        """Rebuild the context from dataset metadata (``train_states`` and ``train_rewards`` only matter
        before training: statistics made from them are saved with the weights)."""
        space = meta["action_space"]
        discrete = space["type"] == "discrete"
        true_dim = len(meta["state_names"])
        return cls(
            image_shape=tuple(meta["image_shape"]),
            true_state_dim=true_dim,
            discrete_actions=discrete,
            action_dim=int(space["n"]) if discrete else int(np.prod(space["shape"])),
            train_states=train_states if train_states is not None else np.zeros((2, true_dim), np.float32),
            train_rewards=train_rewards,
        )


@dataclass
class Method:
    """A named entry of the zoo.

    ``build(config, context) -> SRLModel``. ``trainable`` is false for methods that are not trained by
    gradient descent (``random``); ``fit(model, dataset, rows, rng)`` is for those fitted in closed form
    (``pca``), called with the (memory-mapped) dataset and its training rows before any gradient
    training; it reads what it needs (e.g. a seeded sample), so memory stays bounded. ``recipe`` holds
    the values of the method's YAML file (``srl_bench/configs/methods/<name>.yaml``), which sit on top
    of ``config_class``'s defaults; ``source`` says where the method was defined, in words. ``module``
    is the module that registers it (a run records it, so that another process can import it),
    ``file`` that module's source file and ``distribution`` the installed package whose entry point
    registered it (None for srl-bench's own methods and for user code). ``training_identity`` maps a
    run's recorded config (``state_dim`` as its model has it) to what decides the trained weights;
    the default, the whole config, suits a method whose every field shapes training (see
    :meth:`trains_alike`).
    """

    name: str
    description: str
    paper: str
    build: Callable[[MethodConfig, DataContext], SRLModel]
    config_class: type[MethodConfig] = MethodConfig
    trainable: bool = True
    fit: Callable[[SRLModel, Any, np.ndarray, np.random.Generator], None] | None = None
    recipe: dict[str, Any] = field(default_factory=dict)
    source: str = "srl_bench"
    module: str | None = None  # default: the build function's module
    file: str | None = None
    distribution: str | None = None
    training_identity: Callable[[dict[str, Any]], dict[str, Any]] | None = None

    def __post_init__(self) -> None:
        if self.module is None:
            self.module = getattr(self.build, "__module__", None)

    @property
    def builtin(self) -> bool:
        """Whether the method is one of srl-bench's own."""
        return self.distribution is None and (self.module or "srl_bench").split(".")[0] == "srl_bench"

    def origin(self) -> dict[str, Any]:
        """Where the method comes from, as a run's ``config.json`` records it (``method_source``)."""
        out: dict[str, Any] = {"module": self.module}
        if self.file:
            out["file"] = str(self.file)
        if self.distribution:
            out["distribution"] = self.distribution
        return out

    def trained_part(self, values: dict[str, Any]) -> dict[str, Any]:
        """The part of a config (``to_dict()`` values) that decides the trained weights: all of it, less
        what only chooses how the trained model is read (the method's ``training_identity``)."""
        return self.training_identity(dict(values)) if self.training_identity else dict(values)

    def trains_alike(self, a: dict[str, Any], b: dict[str, Any]) -> bool:
        """Whether the configs ``a`` and ``b`` train the same weights from the same data and seed (World
        Models read as z and as [z, h] do)."""
        return self.trained_part(a) == self.trained_part(b)

    def make_config(self, overrides: dict[str, Any] | None = None,
                    config_file: str | Path | None = None) -> MethodConfig:
        """The method's config: defaults <- its recipe <- ``config_file`` <- ``overrides``, checked."""
        return load_method_config(self.config_class, self.recipe, overrides, config_file,
                                  source=f"the {self.name} config ({self.source})")


METHODS: dict[str, Method] = {}


BuildFunction = Callable[[MethodConfig, DataContext], SRLModel]


def _same_origin(a: Method, b: Method) -> bool:
    """Whether two registrations come from the same code (a module imported again, or a script that
    is also imported as a module): the later one then replaces the earlier."""
    if a.module == b.module:
        return True
    files = [Path(m.file).resolve() if m.file else None for m in (a, b)]
    return files[0] is not None and files[0] == files[1]


def _add(method: Method) -> Method:
    from srl_bench.plugins import loading_origin

    origin = loading_origin()
    if origin is not None:  # registered while an entry point of an installed plug-in loads
        method.distribution = origin["distribution"]
        method.source = f"plug-in {origin['distribution']} ({origin['entry_point']})"
    elif not method.builtin and method.source == "srl_bench":
        method.source = method.file if method.module in ("__main__", "__mp_main__") and method.file else \
            str(method.module)
    if not method.builtin and method.file is None:
        method.file = _module_file(method.module)
    existing = METHODS.get(method.name)
    if existing is not None and existing is not method and not _same_origin(existing, method):
        raise SrlBenchError(f"a method called {method.name!r} is already registered (from {existing.source}), so the "
                            f"one from {method.source} needs another name")
    METHODS[method.name] = method
    return method


def _module_file(module: str | None) -> str | None:
    import sys

    loaded = sys.modules.get(module or "")
    return getattr(loaded, "__file__", None) if loaded is not None else None


def _build_file(build: Callable[..., Any]) -> str | None:
    import inspect

    try:
        return inspect.getsourcefile(build)
    except TypeError:
        return None


def _first_line(text: str | None) -> str:
    return (text or "").strip().splitlines()[0].strip() if (text or "").strip() else ""


def register_method(method: Method | str | BuildFunction | None = None, /, *, name: str | None = None,
                    description: str = "", paper: str = "", config_class: type[MethodConfig] = MethodConfig,
                    recipe: dict[str, Any] | None = None, encoder: str = "deterministic", trainable: bool = True,
                    fit: Callable[[SRLModel, Any, np.ndarray, np.random.Generator], None] | None = None) -> Any:
    """Add a method to the zoo (``srl-bench methods`` lists it, ``srl-bench train`` and benchmarks run it).

    Three forms::

        # a recipe of existing (or your own) loss terms on srl-bench's CNN encoder: one call
        srl_bench.register_method("tiny_inverse", description="inverse model only",
                                  recipe={"losses": {"inverse": 1.0}, "epochs": 5})

        # your own networks: decorate the build function (config, context) -> SRLModel
        @srl_bench.register_method("my_method", description="...", recipe={"losses": {"reconstruction": 1}})
        def build(config: MethodConfig, context: DataContext) -> SRLModel: ...

        register_method(Method(...))   # a Method built by hand

    ``recipe`` holds the hyper-parameters that differ from ``config_class``'s defaults (``losses``
    among them), as a method's YAML file does; ``encoder`` picks the built-in architecture of the
    first form (deterministic, gaussian or keypoints). ``description`` defaults to the first line of
    the build function's docstring, ``name`` (or the first argument) to its name. The decorator
    returns the function unchanged. Registering a name that another module already registered is an
    error; the same module registering it again (imported again) replaces it. A run records the module
    that registered its method, so ``load_run`` in another process imports it.
    """
    if isinstance(method, Method):
        caller = sys._getframe(1).f_globals  # noqa: SLF001
        name_of_caller = str(caller.get("__name__") or "")
        if method.builtin and name_of_caller.split(".")[0] != "srl_bench":  # user code reusing a zoo build
            method.module, method.file = name_of_caller, caller.get("__file__")
        return _add(method)
    if callable(method) and not isinstance(method, str):  # bare @register_method
        return register_method(name=name, description=description, paper=paper, config_class=config_class,
                               recipe=recipe, encoder=encoder, trainable=trainable, fit=fit)(method)
    if method is not None and name is not None and method != name:
        raise SrlBenchError(f"register_method was given two names, {method!r} and {name!r}; give one")
    name = method if method is not None else name
    if name is not None and (not isinstance(name, str) or not name.strip() or "/" in name):
        raise SrlBenchError(f"a method's name must be a non-empty string without '/', got {name!r}")
    from srl_bench.methods.zoo import ARCHITECTURES

    if encoder not in ARCHITECTURES:
        raise unknown_name("encoder architecture", encoder, ARCHITECTURES)
    caller = sys._getframe(1).f_globals  # noqa: SLF001 - the module that registers a recipe
    registered: Method | None = None
    if name is not None:  # registered at once, so that the one-call (recipe) form needs no function
        registered = _add(Method(name=name, description=description, paper=paper, build=ARCHITECTURES[encoder],
                                 config_class=config_class, trainable=trainable, fit=fit, recipe=dict(recipe or {}),
                                 module=caller.get("__name__"), file=caller.get("__file__")))

    def decorate(build: BuildFunction) -> BuildFunction:
        nonlocal registered
        module, file = getattr(build, "__module__", None), _build_file(build)
        if registered is None:
            registered = Method(name=build.__name__, description="", paper=paper, build=build,
                                config_class=config_class, trainable=trainable, fit=fit, recipe=dict(recipe or {}))
        registered.build, registered.module, registered.file = build, module, file
        registered.description = registered.description or _first_line(build.__doc__)
        if registered.distribution is None:
            registered.source = "srl_bench"  # recomputed from the module by _add
        _add(registered)
        try:
            build._srl_bench_registered = True  # type: ignore[attr-defined]  (an entry point naming it is done)
        except (AttributeError, TypeError):
            pass
        return build

    return decorate


def get_method(name: str) -> Method:
    """The method called ``name``, or a clear error listing the known ones."""
    if name not in METHODS:
        from srl_bench.plugins import PLUGIN_ERRORS

        if PLUGIN_ERRORS:
            raise SrlBenchError(f"{unknown_name('method', name, METHODS)} ({len(PLUGIN_ERRORS)} plug-in(s) failed to "
                                "load, see `srl-bench methods`)")
        raise unknown_name("method", name, METHODS)
    return METHODS[name]


def resolve_state_dim(config: MethodConfig, context: DataContext) -> int:
    """The configured state dimension, defaulting to the ground truth's; at least 1."""
    state_dim = context.true_state_dim if config.state_dim is None else config.state_dim
    if state_dim < 1:
        raise SrlBenchError(f"the state dimension must be at least 1, got {state_dim}")
    return state_dim


def split_state(splits: dict[str, float], losses: dict[str, float], state_dim: int) -> dict[str, slice]:
    """Contiguous slices of the state, one per term of ``splits``, in its order, sized by its shares.

    Each term gets at least one dimension; the rest are shared out by the largest remainder. Terms not
    in ``splits`` see the whole state. E.g. ``{reconstruction: 1, inverse: 1}`` of a 5-dimensional
    state gives reconstruction dimensions 0-2 and inverse 3-4.
    """
    if not splits:
        return {}
    unknown = sorted(set(splits) - set(losses))
    if unknown:
        raise SrlBenchError(f"`splits` names {', '.join(unknown)}, which are not among this method's losses "
                            f"({', '.join(losses)})")
    if any(share <= 0 for share in splits.values()):
        raise SrlBenchError(f"every share in `splits` must be positive, got {splits}")
    if len(splits) > state_dim:
        raise SrlBenchError(f"{len(splits)} terms cannot each own a slice of a {state_dim}-dimensional state; "
                            "raise state_dim or split fewer terms")
    total = sum(splits.values())
    exact = np.array([share / total * state_dim for share in splits.values()])
    dims = np.maximum(1, np.floor(exact).astype(int))
    while dims.sum() < state_dim:
        dims[np.argmax(exact - dims)] += 1
    while dims.sum() > state_dim:
        dims[np.argmax(np.where(dims > 1, dims - exact, -np.inf))] -= 1
    ends = np.cumsum(dims)
    return {name: slice(int(end - size), int(end)) for name, size, end in zip(splits, dims, ends)}


def build_objective(config: MethodConfig, context: DataContext, state_dim: int, encoder: Encoder | None = None) -> Objective:
    """The weighted sum of the loss terms named in ``config.losses``, each term owning the slice of the
    state that ``config.splits`` gives it (the whole state by default). ``encoder`` is handed to terms
    that depend on it (the MDN reads the world-models encoder's memory)."""
    if not config.losses:
        raise SrlBenchError("this method needs at least one loss term with a positive weight in its config's `losses`")
    slices = split_state(config.splits, config.weights, state_dim)
    term_context = {"image_shape": context.image_shape, "encoder": encoder,
                    "true_state_dim": context.true_state_dim, "discrete_actions": context.discrete_actions,
                    "action_dim": context.action_dim, "train_states": context.train_states,
                    "train_rewards": context.train_rewards, **context.extra}
    terms = {}
    for name, term_config in config.losses.items():
        owned = slices[name].stop - slices[name].start if name in slices else state_dim
        try:
            terms[name] = LOSS_TERMS[name].build(term_config, {**term_context, "state_dim": owned})
        except ValueError as exc:
            raise SrlBenchError(f"cannot build the loss term {name!r}: {exc}") from exc
    return Objective(terms, config.weights, slices)


def build_model(method: Method, config: MethodConfig, context: DataContext) -> SRLModel:
    """``method.build`` on inputs of ``config.frame_stack`` frames: the networks are built for images
    with k times the channels (the last k frames, oldest first; ``srl_bench.data.frames``), and the
    encoder records k as ``frame_stack`` so scoring and RL feed it the same stacks."""
    k = config.frame_stack
    if k > 1:
        h, w, c = context.image_shape
        context = dataclasses.replace(context, image_shape=(h, w, c * k))
    model = method.build(config, context)
    if k > 1 and hasattr(model.encoder, "encode_dataset"):
        raise SrlBenchError(f"{method.name} keeps its own memory through each episode; frame_stack must be 1 for it")
    model.encoder.frame_stack = k
    return model
