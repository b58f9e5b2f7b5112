"""The one exception type that the command line turns into a clear sentence instead of a traceback."""

import json
from pathlib import Path
from typing import Any


class SrlBenchError(Exception):
    """A problem with the user's input or files, described in one sentence that says what to do."""


class TimeLimitReached(SrlBenchError):
    """A benchmark stopped at its time limit with cells left to do; the same command goes on."""


def read_json_object(path: Path, remedy: str) -> dict[str, Any]:
    """The JSON object in ``path``; one ``SrlBenchError`` sentence ending in ``remedy`` when the file cannot be
    read, is not JSON, or holds something other than an object."""
    try:
        content = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise SrlBenchError(f"{path} is not valid JSON ({exc.msg}, line {exc.lineno}); {remedy}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SrlBenchError(f"cannot read {path} ({exc.__class__.__name__}); {remedy}") from None
    if not isinstance(content, dict):
        raise SrlBenchError(f"{path} must hold a JSON object, not a {type(content).__name__}; {remedy}")
    return content
