"""The one config system: shipped YAML files, ``--set`` overrides, one merge, typed validation.

Every config of srl-bench (a method's hyper-parameters, an RL algorithm's, a benchmark) is a pydantic
model derived from :class:`ConfigModel` (unknown keys are errors, values are type-checked and
coerced), filled from layers of plain mappings merged by :func:`merge`:

    the model's defaults  <-  a shipped YAML (``srl_bench/configs/<kind>/<name>.yaml``)  <-  a user's
    YAML file  <-  ``--set key=value`` overrides (:func:`parse_assignments`)

pydantic was chosen over dataclasses plus a hand-written validator: nested models, constrained
numbers (``PositiveInt``, finite floats), literal choices and located errors come with it, and the
trainer, RL and benchmark configs share one error format (:func:`validate`).

YAML is read with numbers as people write them: ``3e-4`` and ``1e6`` are floats (YAML 1.1, and so
PyYAML, reads them as strings).
"""

from __future__ import annotations

import copy
import difflib
import re
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Sequence, TypeVar

import pydantic
import yaml
from pydantic import BaseModel, ConfigDict

from srl_bench.errors import SrlBenchError

CONFIG_KINDS = ("methods", "rl", "benchmarks")


class ConfigModel(BaseModel):
    """Base of every config: unknown keys are refused, NaN and infinity are not numbers."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, validate_default=False, frozen=False)


Model = TypeVar("Model", bound=BaseModel)


# --- finding and reading YAML --------------------------------------------------------------------

def shipped_dir(kind: str) -> Path:
    """The folder of the configs of ``kind`` (methods, rl, benchmarks) inside the installed package."""
    if kind not in CONFIG_KINDS:
        raise ValueError(f"unknown config kind {kind!r}")
    return Path(str(resources.files("srl_bench.configs") / kind))


def shipped_file(kind: str, name: str) -> Path:
    """``srl_bench/configs/<kind>/<name>.yaml`` (it may not exist)."""
    return shipped_dir(kind) / f"{name}.yaml"


def shipped_names(kind: str) -> list[str]:
    """The names of the shipped configs of ``kind``, sorted."""
    folder = shipped_dir(kind)
    return sorted(path.stem for path in folder.glob("*.yaml")) if folder.is_dir() else []


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2's floats: ``1e6``, ``3e-4`` and ``.5`` are numbers."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
                    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
                    |[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?
                    |[-+]?\.(?:inf|Inf|INF)
                    |\.(?:nan|NaN|NAN))$""", re.X),
    list("-+0123456789."),
)


def parse_yaml(text: str, source: str) -> Any:
    """The value of a YAML document, or one sentence naming ``source`` and the line that is wrong."""
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506  (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        raise SrlBenchError(f"{source} is not valid YAML{line}: {getattr(exc, 'problem', None) or exc}") from None


def read_yaml_mapping(path: str | Path, what: str = "config") -> dict[str, Any]:
    """A YAML file that must hold a mapping (an empty file is an empty mapping)."""
    path = Path(path)
    if not path.is_file():
        raise SrlBenchError(f"{what} file {path} does not exist")
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise SrlBenchError(f"cannot read {what} file {path}: {exc}") from None
    value = parse_yaml(text, str(path))
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SrlBenchError(f"{path} must hold a mapping of keys to values, not a {type(value).__name__}")
    return value


def parse_value(raw: str) -> Any:
    """A ``--set`` value: YAML (numbers, booleans, null, lists, mappings), else the text itself."""
    try:
        return yaml.load(raw, Loader=_Loader)  # noqa: S506
    except yaml.YAMLError:
        return raw


def parse_assignments(pairs: Sequence[str], flag: str = "--set") -> dict[str, Any]:
    """``["lr=3e-4", "losses.kl=4"]`` -> ``{"lr": 0.0003, "losses": {"kl": 4}}``: dotted keys nest."""
    result: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        parts = key.strip().split(".")
        if not sep or not all(part.strip() for part in parts):
            raise SrlBenchError(f"{flag} expects KEY=VALUE (a dotted key such as losses.kl=4), got {pair!r}")
        *parents, leaf = (part.strip() for part in parts)
        target = result
        for parent in parents:
            child = target.setdefault(parent, {})
            if not isinstance(child, dict):
                raise SrlBenchError(f"{flag} sets {parent!r} both to a value and to a mapping in {pair!r}")
            target = child
        target[leaf] = parse_value(raw)
    return result


def merge(base: dict[str, Any], *updates: dict[str, Any] | None) -> dict[str, Any]:
    """``base`` with each update merged in, key by key: nested mappings merge, anything else replaces.

    The inputs are not modified.
    """
    merged = copy.deepcopy(base)
    for update in updates:
        for key, value in (update or {}).items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = merge(merged[key], value)
            else:
                merged[key] = copy.deepcopy(value)
    return merged


# --- validation ----------------------------------------------------------------------------------

def closest(name: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices``, or an empty string."""
    match = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""


def unknown_name(what: str, name: str, choices: Iterable[str]) -> SrlBenchError:
    """``unknown method 'vea' (did you mean 'vae'?); choose one of: ...``"""
    choices = sorted(str(c) for c in choices)
    return SrlBenchError(f"unknown {what} {name!r}{closest(name, choices)}; choose one of: {', '.join(choices)}")


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The field names of the (nested) model reached by ``loc``, for suggestions; [] if unknown."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):  # an index into a list of models
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)) or part not in current.model_fields:
            return []
        current = current.model_fields[part].annotation
        for arg in getattr(current, "__args__", ()):  # Optional[Model], list[Model]
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                current = arg
    return list(current.model_fields) if isinstance(current, type) and issubclass(current, BaseModel) else []


def describe_error(error: dict[str, Any], model: type[BaseModel]) -> str:
    """One pydantic error as ``key 'a.b': what was expected, got X``."""
    loc = tuple(error.get("loc", ()))
    key = ".".join(str(part) for part in loc) or "(top level)"
    kind = error.get("type", "")
    given = error.get("input")
    if kind == "extra_forbidden":
        valid = _fields_at(model, loc[:-1])
        hint = closest(str(loc[-1]), valid)
        listing = f"; valid keys here: {', '.join(valid)}" if valid else ""
        return f"unknown key {key!r}{hint}{listing}"
    message = error.get("msg", "is invalid")
    message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind == "missing":
        return f"key {key!r} is required"
    message = message[0].lower() + message[1:]
    if not loc:  # a check across keys
        return message
    shown = repr(given) if len(repr(given)) <= 80 else repr(given)[:77] + "..."
    return f"key {key!r}: {message}" + ("" if "got" in message else f", got {shown}")


def validate(model: type[Model], values: Any, source: str, context: dict[str, Any] | None = None) -> Model:
    """``model`` built from ``values``; any problem is one SrlBenchError naming ``source`` and the key."""
    if not isinstance(values, dict):
        raise SrlBenchError(f"{source} must be a mapping of keys to values, got {values!r}")
    try:
        return model.model_validate(values, context={"source": source, **(context or {})})
    except pydantic.ValidationError as exc:
        # an unknown key explains a "missing" one beside it (a misspelling), so it is named first
        errors = sorted(exc.errors(include_url=False), key=lambda e: e.get("type") != "extra_forbidden")
        extra = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        raise SrlBenchError(f"{source}: {describe_error(errors[0], model)}{extra}") from None
