"""Atomic publishing of outputs: whole directories (datasets, runs, RL results, leaderboards) and single files.

Every srl-bench output is first written into a temporary sibling ``.NAME.tmp-PID`` and only then moved
into place, so a reader never sees a half-written output and an interrupted write leaves the previous
one intact. ``Publisher`` is the one way to do this for a directory::

    publisher = Publisher(out, "run", overwrite=overwrite)   # checks the path; touches nothing
    with publisher as tmp_dir:                               # creates .NAME.tmp-PID
        ...write files into tmp_dir...
    # on leaving the block without an exception the output is published; on any exception
    # (KeyboardInterrupt included) the temporary directory is removed and the old output is kept

The checks refuse, before any work, an output path that is empty, the working directory, the home
directory, a filesystem root, an ancestor of the working directory, a symbolic link, an existing
file, or under a parent that is not a writable directory. An existing directory is replaced only with
``overwrite`` and only when it is an earlier srl-bench output of the same kind: it carries the
``.srl-bench.json`` marker this module writes into every output (or, for outputs made before the
marker existed, the kind's signature file) and holds only the files that kind consists of. Anything
else is refused, and nothing is deleted.

Publishing keeps the old output until the new one is complete: the old directory is renamed aside to
``.NAME.old-PID``, the new one renamed into place, then the old one deleted. Leftovers of a process
that died midway (``.NAME.tmp-PID`` / ``.NAME.old-PID`` whose PID is no longer running) are removed,
or restored when the output itself is missing, by the next write to the same path, with one line on
stderr.
"""

from __future__ import annotations

import fnmatch
import glob
import json
import os
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from srl_bench.errors import SrlBenchError

MARKER_FILE = ".srl-bench.json"
MARKER_VERSION = 1
TEMP_INFIX, OLD_INFIX = ".tmp-", ".old-"
_TENSORBOARD_FILES = ("events.out.tfevents.*",)


@dataclass(frozen=True)
class OutputKind:
    """What one kind of srl-bench output directory consists of, so an earlier one can be recognised.

    ``signature`` is the file every such output has (used for outputs written before the marker);
    ``signature_keys`` are keys its JSON must hold (empty: the file is not JSON). ``files`` are name
    patterns allowed at the top level; ``subdirs`` maps an allowed subdirectory name to the patterns
    of the files anywhere below it.
    """

    name: str
    noun: str
    signature: str
    signature_keys: tuple[str, ...]
    files: tuple[str, ...]
    subdirs: dict[str, tuple[str, ...]] = field(default_factory=dict)


KINDS: dict[str, OutputKind] = {
    "dataset": OutputKind("dataset", "dataset", "meta.json", ("format_version", "checksums"), ("meta.json", "*.npy")),
    "run": OutputKind("run", "run directory", "config.json", ("method", "config"), ("*.json", "*.pt", "*.csv"),
                      {"tensorboard": _TENSORBOARD_FILES}),
    "rl": OutputKind("rl", "RL result directory", "rl.json", ("env_id", "algo"),
                     ("rl.json", "curve.csv", "agent_seed*.zip"), {"tb": _TENSORBOARD_FILES}),
    # leaderboard.{md,csv,json,tex}, aggregates.csv (across environments), curves.csv (RL learning curves),
    # index.html (the page, showing plots/), plots/ (PNGs, in per-environment subfolders too) and cells/ (the
    # records of its cells, srl_bench.bench.published)
    "benchmark": OutputKind("benchmark", "benchmark results directory", "leaderboard.md", (),
                            ("leaderboard.*", "runs.csv", "rl_runs.csv", "curves.csv", "aggregates.csv", "timing.json",
                             "index.html"),
                            {"plots": ("*.png",), "cells": ("*.json",)}),
}

_LEFTOVER = re.compile(r"^\.(?P<name>.+)\.(?P<what>tmp|old)-(?P<pid>\d+)$")


def _pid_alive(pid: int) -> bool:
    """Whether a process with this id is running (our own counts as gone: its leftovers are stale)."""
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return False
    return True


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            path.unlink()
        except FileNotFoundError:
            pass


def clean_stale(target: str | Path, say: Callable[[str], None] | None = None) -> list[Path]:
    """Remove the ``.NAME.tmp-PID`` / ``.NAME.old-PID`` siblings of ``target`` left by dead processes.

    A stale ``.NAME.old-PID`` is the previous output of a write that died between its two renames;
    when ``target`` itself is missing it is renamed back instead of deleted. Reports what it did in one
    line (to stderr unless ``say`` is given) and returns the paths it handled.
    """
    target = Path(target)
    parent = target.parent
    if not parent.is_dir():
        return []
    handled: list[Path] = []
    removed: list[str] = []
    restored: list[str] = []
    try:
        siblings = sorted(parent.glob(f".{glob.escape(target.name)}.*-*"))
    except OSError:
        return []
    for path in siblings:
        match = _LEFTOVER.match(path.name)
        if not match or match["name"] != target.name or _pid_alive(int(match["pid"])):
            continue
        if match["what"] == "old" and not os.path.lexists(target):
            try:
                os.rename(path, target)
            except OSError:
                continue
            restored.append(path.name)
        else:
            _remove(path)
            removed.append(path.name)
        handled.append(path)
    if handled:
        parts = []
        if removed:
            parts.append(f"removed {', '.join(removed)}")
        if restored:
            parts.append(f"restored {target.name} from {', '.join(restored)}")
        message = (f"srl-bench: {' and '.join(parts)} in {parent}, left by an interrupted earlier write "
                   "whose process is gone")
        (say or (lambda line: print(line, file=sys.stderr)))(message)
    return handled


def _describe(path: Path) -> str:
    return str(path) if str(path) else "''"


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def check_output_path(out: str | Path | None, want_dir: bool = True) -> Path:
    """Validate an output path before any work; returns it as a ``Path``.

    Raises ``SrlBenchError`` (one sentence) for an empty path, the working directory, the home
    directory, a filesystem root, an ancestor of the working directory, a symbolic link, an existing
    file where a directory is wanted (or a directory where a file is), and a parent that is not a
    writable directory. Missing parents are fine: they are created when the output is written.
    """
    if out is None or not str(out).strip():
        raise SrlBenchError("the output path is empty; give --out a new directory name, e.g. --out out/mine"
                            if want_dir else "the output file name is empty; give a file name, e.g. --out metrics.json")
    path = Path(out)
    what = "directory" if want_dir else "file"
    real = _real(path)
    cwd = _real(Path.cwd())
    try:
        home: Path | None = _real(Path.home())
    except (RuntimeError, KeyError):
        home = None
    if real == cwd:
        raise SrlBenchError(f"--out {_describe(path)} is the current working directory; srl-bench writes a whole "
                            "directory as its output and will not replace the folder you are in, so give a new name "
                            "such as --out out/mine" if want_dir else
                            f"--out {_describe(path)} is the current working directory, not a file name; give a file "
                            "name such as --out metrics.json")
    if home is not None and real == home:
        raise SrlBenchError(f"--out {_describe(path)} is your home directory; give a new {what} inside it instead")
    if real.parent == real:
        raise SrlBenchError(f"--out {_describe(path)} is a filesystem root; give a new {what} inside a folder instead")
    if want_dir and cwd.is_relative_to(real):
        raise SrlBenchError(f"--out {_describe(path)} contains the current working directory; srl-bench will not "
                            "replace it, so give a new directory name")
    if want_dir and path.is_symlink():
        raise SrlBenchError(f"{path} is a symbolic link; give the directory it points to or a new name")
    if want_dir and path.exists() and not path.is_dir():
        raise SrlBenchError(f"{path} is an existing file, not a directory; choose another --out or remove the file")
    if not want_dir and path.is_dir():
        raise SrlBenchError(f"{path} is a directory, not a file; give a file name such as {path / 'metrics.json'}")
    ancestor = real.parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise SrlBenchError(f"cannot create {path}: {ancestor} is a file, not a directory; choose another --out")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise SrlBenchError(f"cannot write into {ancestor} (permission denied); choose an --out in a folder you can "
                            "write to")
    return path


def read_json(path: Path) -> Any:
    """The JSON content of ``path``, None when it cannot be read."""
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None


def read_marker(path: str | Path) -> dict[str, Any] | None:
    """The ``.srl-bench.json`` marker of an output directory, or None."""
    marker = read_json(Path(path) / MARKER_FILE)
    return marker if isinstance(marker, dict) and isinstance(marker.get("kind"), str) else None


def _unexpected(path: Path, kind: OutputKind) -> list[str]:
    """Entries of ``path`` that are not part of a ``kind`` output (relative names)."""
    odd = []
    for entry in sorted(path.iterdir()):
        name = entry.name
        if entry.is_symlink():
            odd.append(name)
        elif entry.is_dir():
            patterns = kind.subdirs.get(name)
            if patterns is None:
                odd.append(name + "/")
                continue
            for below in sorted(entry.rglob("*")):
                if below.is_symlink() or (below.is_file() and not any(fnmatch.fnmatch(below.name, p) for p in patterns)):
                    odd.append(str(below.relative_to(path)))
                elif not below.is_dir() and not below.is_file():
                    odd.append(str(below.relative_to(path)))
        elif not entry.is_file():
            odd.append(name)
        elif name == MARKER_FILE or _LEFTOVER.match(name):
            continue
        elif not any(fnmatch.fnmatch(name, p) for p in kind.files):
            odd.append(name)
    return odd


def replaceable_reason(path: str | Path, kind: str) -> str | None:
    """None when the existing directory ``path`` may be replaced by a new ``kind`` output, else why not.

    It may when it is empty, or when it is an earlier srl-bench output of that kind (by its marker or,
    without one, its signature file) holding only that kind's files.
    """
    path = Path(path)
    spec = KINDS[kind]
    if not any(path.iterdir()):
        return None
    marker = read_marker(path)
    if marker is not None and marker["kind"] != kind:
        other = KINDS[marker["kind"]].noun if marker["kind"] in KINDS else marker["kind"]
        return f"{path} holds a srl-bench {other}, not a {spec.noun}; choose another --out"
    if marker is None:
        signature = path / spec.signature
        ok = signature.is_file()
        if ok and spec.signature_keys:
            content = read_json(signature)
            ok = isinstance(content, dict) and all(k in content for k in spec.signature_keys)
        if not ok:
            return (f"{path} is not an earlier srl-bench {spec.noun} (no srl-bench {spec.signature} in it) and "
                    "srl-bench only replaces its own outputs, so nothing was deleted; choose another --out")
    odd = _unexpected(path, spec)
    if odd:
        shown = ", ".join(odd[:3]) + (f" and {len(odd) - 3} more" if len(odd) > 3 else "")
        return (f"{path} holds files that are not part of a srl-bench {spec.noun} ({shown}), so nothing was "
                "deleted; move them away or choose another --out")
    return None


class Publisher:
    """Writes one output directory atomically (see the module docstring).

    Construction checks the path and changes nothing but stale leftovers (``clean_stale``). ``begin``
    (or entering a ``with`` block) creates missing parents and the temporary directory ``tmp_dir``;
    ``publish`` moves it into place; ``abort`` removes it. A ``with`` block publishes on a normal exit
    (unless ``publish`` was already called) and aborts on any exception.
    """

    def __init__(self, out: str | Path, kind: str, overwrite: bool = False) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown output kind {kind!r}; one of {', '.join(KINDS)}")
        self.kind = kind
        self.overwrite = overwrite
        self.out_dir = check_output_path(out, want_dir=True)
        clean_stale(self.out_dir)  # first, so an output an interrupted write moved aside is back in place
        self._check_existing()
        pid = os.getpid()
        self.tmp_dir = self.out_dir.parent / f".{self.out_dir.name}{TEMP_INFIX}{pid}"
        self.old_dir = self.out_dir.parent / f".{self.out_dir.name}{OLD_INFIX}{pid}"
        self._created: list[Path] = []
        self.begun = False
        self.published = False

    def _check_existing(self) -> None:
        if not self.out_dir.is_dir() or not any(self.out_dir.iterdir()):
            return
        if not self.overwrite:
            raise SrlBenchError(f"{self.out_dir} already exists; choose another --out or pass --overwrite")
        reason = replaceable_reason(self.out_dir, self.kind)
        if reason is not None:
            raise SrlBenchError(reason)

    def begin(self) -> Path:
        """Create the temporary directory (and missing parents); returns it."""
        if self.begun:
            return self.tmp_dir
        missing = []
        parent = self.out_dir.parent
        while not parent.exists():
            missing.append(parent)
            parent = parent.parent
        for folder in reversed(missing):
            try:
                folder.mkdir()
            except FileExistsError:  # made meanwhile by another process (benchmark cells run side by side)
                continue
            self._created.append(folder)
        if os.path.lexists(self.tmp_dir):
            _remove(self.tmp_dir)
        self.tmp_dir.mkdir()
        self.begun = True
        return self.tmp_dir

    def __enter__(self) -> Path:
        return self.begin()

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.abort()
        elif not self.published:
            self.publish()

    def publish(self) -> Path:
        """Move the finished temporary directory into place, replacing the old output only once the new one
        is complete; returns the output path."""
        if not self.begun or self.published:
            raise RuntimeError("publish() needs begin() first, and only once")
        try:
            check_output_path(self.out_dir)  # the path may have changed while we worked
            self._check_existing()
            from srl_bench import __version__

            write_json_atomic(self.tmp_dir / MARKER_FILE, {"kind": self.kind, "version": __version__,
                                                           "marker_version": MARKER_VERSION})
            if os.path.lexists(self.out_dir):
                if os.path.lexists(self.old_dir):
                    _remove(self.old_dir)
                os.rename(self.out_dir, self.old_dir)
                try:
                    os.rename(self.tmp_dir, self.out_dir)
                except BaseException:
                    os.rename(self.old_dir, self.out_dir)
                    raise
                _remove(self.old_dir)
            else:
                os.rename(self.tmp_dir, self.out_dir)
        except BaseException as exc:
            self.abort()
            if isinstance(exc, OSError):
                raise SrlBenchError(f"could not move the new output into place at {self.out_dir} ({exc.strerror or exc}); "
                                    "the previous output, if any, is unchanged") from exc
            raise
        self.published = True
        return self.out_dir

    def abort(self) -> None:
        """Drop the temporary directory; put the old output back if an interrupted publish moved it aside."""
        _remove(self.tmp_dir)
        if os.path.lexists(self.old_dir) and not os.path.lexists(self.out_dir):
            os.rename(self.old_dir, self.out_dir)
        for folder in reversed(self._created):
            try:
                folder.rmdir()
            except OSError:
                break
        self._created = []
        self.begun = False


def write_text_atomic(path: str | Path, text: str | bytes) -> Path:
    """Write one file via a temporary name beside it and ``os.replace``, so no half-written file remains.

    The path is checked first (see ``check_output_path``); missing parents are created.
    """
    path = check_output_path(path, want_dir=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(path)
    tmp = path.with_name(f".{path.name}{TEMP_INFIX}{os.getpid()}")
    try:
        with open(tmp, "wb") as handle:
            handle.write(text.encode() if isinstance(text, str) else text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        _remove(tmp)
        raise
    return path


def write_json_atomic(path: str | Path, payload: Any) -> Path:
    """Write ``payload`` as indented JSON, atomically (see ``write_text_atomic``)."""
    return write_text_atomic(path, json.dumps(payload, indent=2))
