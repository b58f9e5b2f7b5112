"""The on-disk dataset format: a directory of ``.npy`` arrays plus ``meta.json``.

Row ``t`` of every array is step ``t``. An episode of ``T`` environment steps holds ``T + 1`` rows:
rows ``0 .. T-1`` carry the action taken at that frame and the reward it earned; the last row holds
the final observation, with a zero action and a zero reward. So a transition ``(o_t, a_t, r_t,
o_t+1)`` is valid exactly when row ``t + 1`` exists and does not start an episode.

Arrays: ``observations`` uint8 (N, H, W, C); ``states`` float32 (N, D); ``actions`` int64 (N,) or
float32 (N, A); ``rewards`` float32 (N,); ``episode_starts`` bool (N,); ``terminated`` bool (N,),
true on the last row of an episode that ended by termination (not by truncation).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from srl_bench.errors import SrlBenchError, read_json_object
from srl_bench.publish import Publisher

FORMAT_VERSION = 1
META_FILE = "meta.json"
ARRAY_NAMES = ("observations", "states", "actions", "rewards", "episode_starts", "terminated")


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    """The SHA-256 hex digest of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


class DatasetWriter:
    """Streams episodes to a temporary directory, then publishes it atomically with ``close``.

    Each array is written once, straight into its ``.npy`` file as episodes arrive (memory stays
    bounded by one episode, disk by the dataset's size); ``close`` fills in the row count of the
    fixed-size header. Construction only checks ``out_dir`` (see
    ``srl_bench.publish``); the temporary directory appears on entering the ``with`` block (or
    ``begin``). Nothing appears at ``out_dir`` unless ``close`` succeeds, and an existing dataset
    there is replaced only then; ``abort`` (or an exception inside the ``with`` block, Ctrl-C
    included) removes the temporary directory and keeps the old dataset.
    """

    def __init__(self, out_dir: str | Path, overwrite: bool = False) -> None:
        self._publisher = Publisher(out_dir, "dataset", overwrite=overwrite)
        self.out_dir = self._publisher.out_dir
        self.tmp_dir = self._publisher.tmp_dir
        self._files: dict[str, Any] = {}
        self._specs: dict[str, tuple[np.dtype, tuple[int, ...]]] = {}
        self._presized: dict[str, PresizedArray] = {}
        self.n_frames = 0
        self.n_episodes = 0
        self.episode_lengths: list[int] = []

    def begin(self) -> "DatasetWriter":
        """Create the temporary directory the episodes stream into."""
        self._publisher.begin()
        return self

    def __enter__(self) -> "DatasetWriter":
        return self.begin()

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.abort()

    def presize(self, name: str, dtype: Any, tail: tuple[int, ...], n_rows: int) -> "PresizedArray":
        """Create ``name``.npy at its final size, for other processes to fill in place at known row
        offsets (``PresizedArray``); ``add_episode`` then takes episodes without ``name``, and ``close``
        takes the digest the array computed as its rows were reported written."""
        if not self._publisher.begun:
            raise RuntimeError("DatasetWriter.presize needs begin() (or a with block) first")
        if name not in ARRAY_NAMES or name in self._specs:
            raise ValueError(f"cannot presize {name!r}: not a dataset array, or already written")
        self._presized[name] = PresizedArray(self.tmp_dir / f"{name}.npy", dtype, tuple(tail), n_rows)
        return self._presized[name]

    def add_episode(self, arrays: dict[str, np.ndarray]) -> None:
        """Append one episode: a dict of the arrays in ``ARRAY_NAMES`` (less the presized ones), all of
        the same length."""
        if not self._publisher.begun:
            raise RuntimeError("DatasetWriter.add_episode needs begin() (or a with block) first")
        names = [name for name in ARRAY_NAMES if name not in self._presized]
        lengths = {len(arrays[name]) for name in names}
        if len(lengths) != 1:
            raise ValueError(f"episode arrays differ in length: { {k: len(arrays[k]) for k in names} }")
        for name in names:
            array = np.ascontiguousarray(arrays[name])
            spec = (array.dtype, array.shape[1:])
            if name not in self._specs:
                self._specs[name] = spec
                self._files[name] = open(self.tmp_dir / f"{name}.npy", "wb")
                self._files[name].write(_npy_header(array.dtype, (0, *array.shape[1:])))  # rewritten at close
            elif self._specs[name] != spec:
                raise ValueError(f"{name}: episode has dtype/shape {spec}, expected {self._specs[name]}")
            self._files[name].write(array.data)
        self.n_frames += lengths.pop()
        self.n_episodes += 1
        self.episode_lengths.append(len(arrays["rewards"]) - 1)  # environment steps (rows - 1)

    def close(self, meta: dict[str, Any]) -> Path:
        """Write the ``.npy`` files and ``meta.json``, then move the directory into place."""
        if self.n_episodes == 0:
            self.abort()
            raise SrlBenchError("no episode was collected; ask for at least one episode")
        checksums = {}
        for name in ARRAY_NAMES:
            if name in self._presized:  # hashed as its rows were written
                checksums[f"{name}.npy"] = self._presized[name].finish(self.n_frames)
                continue
            dtype, tail = self._specs[name]
            handle = self._files[name]
            handle.seek(0)  # the arrays were written once, in place: only the header's row count changes
            handle.write(_npy_header(dtype, (self.n_frames, *tail)))
            handle.close()
            checksums[f"{name}.npy"] = sha256_file(self.tmp_dir / f"{name}.npy")
        meta = {"format_version": FORMAT_VERSION, **meta, "n_frames": self.n_frames,
                "n_episodes": self.n_episodes, "checksums": checksums}
        with open(self.tmp_dir / META_FILE, "w") as handle:
            json.dump(meta, handle, indent=2)
        return self._publisher.publish()

    def abort(self) -> None:
        """Drop everything written so far; an existing dataset at ``out_dir`` stays as it was."""
        for handle in self._files.values():
            handle.close()
        for array in self._presized.values():
            array.close()
        self._publisher.abort()


class PresizedArray:
    """An ``.npy`` file created at its final size (its header already holds the row count) whose rows
    other processes write in place (``os.pwrite`` at ``offset(row)``); the owner hashes the rows in
    order as they are reported written (``hash_through``), so the data is written once and read back
    once, from the page cache, a buffer at a time (resident memory stays small)."""

    def __init__(self, path: Path, dtype: Any, tail: tuple[int, ...], n_rows: int) -> None:
        header = _npy_header(np.dtype(dtype), (n_rows, *tail))
        self.path, self.n_rows, self.header_bytes = Path(path), int(n_rows), len(header)
        self.row_bytes = np.dtype(dtype).itemsize * int(np.prod(tail))
        with open(self.path, "wb") as handle:
            handle.write(header)
            handle.truncate(self.offset(self.n_rows))  # sparse until the rows are written
        self._digest = hashlib.sha256(header)
        self._buffer = memoryview(bytearray(8 << 20))
        self._fd: int | None = os.open(self.path, os.O_RDONLY)
        self.hashed_rows = 0

    def offset(self, row: int) -> int:
        """The byte offset of ``row`` in the file."""
        return self.header_bytes + row * self.row_bytes

    def hash_through(self, rows: int) -> None:
        """Hash rows ``hashed_rows .. rows - 1``, which the writers have finished."""
        start, end = self.offset(self.hashed_rows), self.offset(rows)
        while start < end:
            n = os.preadv(self._fd, [self._buffer[: min(len(self._buffer), end - start)]], start)
            if n <= 0:
                raise OSError(f"{self.path} ended at byte {start}, expected {end}")
            self._digest.update(self._buffer[:n])
            start += n
        self.hashed_rows = rows

    def finish(self, n_rows: int) -> str:
        """The file's SHA-256 once all ``n_rows`` rows are hashed (an error if the count differs)."""
        if n_rows != self.n_rows or self.hashed_rows != self.n_rows:
            raise RuntimeError(f"{self.path.name}: {self.hashed_rows} of {self.n_rows} rows hashed, "
                               f"{n_rows} expected")
        self.close()
        return self._digest.hexdigest()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


_NPY_HEADER_BYTES = 256  # fixed, so the final header (with the row count) overwrites the first in place


def _npy_header(dtype: np.dtype, shape: tuple[int, ...]) -> bytes:
    """A ``.npy`` version-1.0 header of exactly ``_NPY_HEADER_BYTES`` bytes (padded with spaces, as
    the format allows), so an array can be written row by row and its length filled in at the end."""
    text = repr({"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False, "shape": tuple(shape)})
    body_size = _NPY_HEADER_BYTES - len(np.lib.format.MAGIC_PREFIX) - 2 - 2
    if len(text) + 1 > body_size:
        raise ValueError(f"array header too long for shape {shape}")
    body = (text + " " * (body_size - len(text) - 1) + "\n").encode("latin1")
    return np.lib.format.MAGIC_PREFIX + bytes([1, 0]) + len(body).to_bytes(2, "little") + body


@dataclass
class Dataset:
    """A loaded dataset: memory-mapped arrays plus its metadata and episode bookkeeping."""

    path: Path
    meta: dict[str, Any]
    observations: np.ndarray
    states: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    episode_starts: np.ndarray
    terminated: np.ndarray
    episode_ids: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.episode_ids = np.cumsum(self.episode_starts) - 1

    def __len__(self) -> int:
        return len(self.observations)

    @property
    def n_episodes(self) -> int:
        return int(self.episode_ids[-1]) + 1 if len(self) else 0

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.observations.shape[1:])  # type: ignore[return-value]

    @property
    def state_names(self) -> list[str]:
        return list(self.meta["state_names"])

    @property
    def identity(self) -> dict[str, Any]:
        """What identifies this dataset's content: env, seed, counts and the checksums."""
        keys = ("env_id", "env_kwargs", "policy", "seed", "n_frames", "n_episodes", "checksums")
        return {"path": str(self.path), **{k: self.meta.get(k) for k in keys}}

    @property
    def discrete_actions(self) -> bool:
        return self.actions.ndim == 1

    def frames_of_episodes(self, episodes: np.ndarray) -> np.ndarray:
        """Row indices of all frames of the given episodes, in order."""
        return np.flatnonzero(np.isin(self.episode_ids, episodes))

    def has_next(self) -> np.ndarray:
        """Boolean mask: row t starts a valid transition (row t+1 is in the same episode)."""
        mask = np.zeros(len(self), dtype=bool)
        mask[:-1] = ~self.episode_starts[1:]
        return mask

    def verify(self) -> None:
        """Recompute every checksum; raise ``SrlBenchError`` if a file changed."""
        for filename, expected in self.meta.get("checksums", {}).items():
            if sha256_file(self.path / filename) != expected:
                raise SrlBenchError(f"{self.path / filename} does not match its checksum; regenerate the dataset")


ACTION_TYPES = ("discrete", "box")
DATA_META_KEYS = ("env_id", "image_shape", "state_names", "action_space")  # what a run keeps of its data's meta
_SCAN_ROWS = 1 << 20  # rows per chunk when scanning values, so a memory-mapped array is read in pieces


def _is_count(value: Any, least: int = 0) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


def meta_problem(meta: Any, keys: tuple[str, ...] = (*DATA_META_KEYS, "n_frames", "n_episodes"),
                 what: str = META_FILE) -> str | None:
    """What is wrong with the data facts ``keys`` of a dataset's ``meta.json`` (or a run's
    ``data_meta``, named by ``what``), as a phrase such as ``meta.json lacks 'state_names'``; None
    when they are all present and well formed."""
    if not isinstance(meta, dict):
        return f"{what} holds a JSON {type(meta).__name__}, not an object"
    for key in keys:
        if key not in meta:
            return f"{what} lacks {key!r}"
        value = meta[key]
        if key == "env_id" and not (isinstance(value, str) and value):
            return f"'env_id' in {what} must be an environment id such as 'srl/CartPole-v0', got {value!r}"
        if key == "image_shape" and not (isinstance(value, list) and len(value) == 3
                                         and all(_is_count(v, 1) for v in value)):
            return f"'image_shape' in {what} must be [height, width, channels] of positive integers, got {value!r}"
        if key == "state_names" and not (isinstance(value, list) and value
                                         and all(isinstance(v, str) for v in value)):
            return f"'state_names' in {what} must be a non-empty list of names, got {value!r}"
        if key in ("n_frames", "n_episodes") and not _is_count(value):
            return f"{key!r} in {what} must be a non-negative integer, got {value!r}"
        if key == "action_space":
            problem = _action_space_problem(value)
            if problem:
                return f"'action_space' in {what} {problem}"
    return None


def _action_space_problem(space: Any) -> str | None:
    if not isinstance(space, dict) or space.get("type") not in ACTION_TYPES:
        return f"must be of type 'discrete' (with n) or 'box' (with shape), got {space!r}"
    if space["type"] == "discrete":
        if not _is_count(space.get("n"), 1) or not _is_count(space.get("start", 0)):
            return f"is discrete, so it needs a positive integer 'n', got {space!r}"
        return None
    shape = space.get("shape")
    if not (isinstance(shape, list) and shape and all(_is_count(v, 1) for v in shape)):
        return f"is a box, so it needs a 'shape' of positive integers, got {space!r}"
    width = int(np.prod(shape))
    for bound in ("low", "high"):
        if bound in space:
            try:
                values = np.asarray(space[bound], dtype=np.float64).reshape(-1)
            except (TypeError, ValueError):
                return f"has a {bound!r} that is not a list of numbers: {space[bound]!r}"
            if values.size != width:
                return f"has {values.size} {bound!r} values for its shape {shape}"
    return None


def _invalid(where: Path, problem: str) -> SrlBenchError:
    return SrlBenchError(f"{where} is not a valid dataset: {problem}; regenerate it with `srl-bench generate`")


def _array_spec(name: str, space: dict[str, Any]) -> tuple[str, int, str]:
    """(dtype, ndim, the format's description) of array ``name`` of a dataset with this action space."""
    if name == "actions":
        if space["type"] == "discrete":
            return "int64", 1, "int64 (N,) for a discrete action space"
        return "float32", 2, "float32 (N, A) for a box action space"
    return {
        "observations": ("uint8", 4, "uint8 images (N, H, W, C)"),
        "states": ("float32", 2, "float32 (N, D)"),
        "rewards": ("float32", 1, "float32 (N,)"),
        "episode_starts": ("bool", 1, "bool (N,)"),
        "terminated": ("bool", 1, "bool (N,)"),
    }[name]


def _first_bad_row(array: np.ndarray, bad_rows: Callable[[np.ndarray, slice], np.ndarray]) -> int | None:
    """The first row ``r`` where ``bad_rows(chunk, rows)`` is true, reading ``array`` in chunks of rows."""
    for start in range(0, len(array), _SCAN_ROWS):
        rows = slice(start, min(start + _SCAN_ROWS, len(array)))
        bad = bad_rows(np.asarray(array[rows]), rows)
        if bad.any():
            return start + int(np.argmax(bad))
    return None


def _not_finite(chunk: np.ndarray, rows: slice) -> np.ndarray:
    return ~np.isfinite(chunk).reshape(len(chunk), -1).all(axis=1)


def _check_arrays(path: Path, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """Shapes against ``meta``, episode bookkeeping, finite states, rewards and actions, and actions
    inside the declared action space. Reads the small arrays, never the observations' values."""
    obs, states, actions = arrays["observations"], arrays["states"], arrays["actions"]
    space = meta["action_space"]
    if list(obs.shape[1:]) != meta["image_shape"]:
        raise _invalid(path, f"observations.npy holds {'×'.join(map(str, obs.shape[1:]))} images but meta.json's "
                             f"image_shape is {'×'.join(map(str, meta['image_shape']))}")
    if states.shape[1] != len(meta["state_names"]):
        raise _invalid(path, f"states.npy has {states.shape[1]} columns but meta.json names "
                             f"{len(meta['state_names'])} state entries")
    if space["type"] == "box" and actions.shape[1] != int(np.prod(space["shape"])):
        raise _invalid(path, f"actions.npy has {actions.shape[1]} columns but the declared box action space has "
                             f"shape {space['shape']}")
    starts = np.asarray(arrays["episode_starts"])
    n_frames = len(starts)
    if n_frames == 0 or not starts[0]:
        raise _invalid(path, "its first row does not start an episode")
    first_rows = np.flatnonzero(starts)
    if len(first_rows) != meta["n_episodes"]:
        raise _invalid(path, f"meta.json says {meta['n_episodes']} episodes but episode_starts.npy marks "
                             f"{len(first_rows)}")
    lengths = meta.get("episode_lengths")
    if lengths is not None and lengths != (np.diff(first_rows, append=n_frames) - 1).tolist():
        raise _invalid(path, "meta.json's episode_lengths do not match the episodes that episode_starts.npy marks")

    def at(row: int) -> str:
        return f"row {row} (episode {int(np.searchsorted(first_rows, row, side='right')) - 1})"

    for name in ("states", "rewards", "actions"):
        if name == "actions" and space["type"] == "discrete":
            continue
        row = _first_bad_row(arrays[name], _not_finite)
        if row is not None:
            values = np.asarray(arrays[name][row], dtype=np.float64).reshape(-1)
            raise _invalid(path, f"{name}.npy holds {values[~np.isfinite(values)][0]} in {at(row)}")
    if space["type"] == "discrete":
        low, high = space.get("start", 0), space.get("start", 0) + space["n"] - 1
        row = _first_bad_row(actions, lambda chunk, rows: (chunk < low) | (chunk > high))
        if row is not None:
            raise _invalid(path, f"actions.npy holds action {int(actions[row])} in {at(row)}, outside the declared "
                                 f"discrete actions {low}..{high}")
        return
    if "low" not in space and "high" not in space:
        return
    width = actions.shape[1]
    low = np.broadcast_to(np.asarray(space.get("low", -np.inf), np.float64).reshape(-1), (width,))
    high = np.broadcast_to(np.asarray(space.get("high", np.inf), np.float64).reshape(-1), (width,))
    taken = np.ones(n_frames, dtype=bool)  # the last row of an episode holds a placeholder zero, no action taken
    taken[first_rows[1:] - 1] = False
    taken[-1] = False

    def outside(chunk: np.ndarray, rows: slice) -> np.ndarray:
        return taken[rows] & ((chunk < low) | (chunk > high)).any(axis=1)

    row = _first_bad_row(actions, outside)
    if row is not None:
        raise _invalid(path, f"actions.npy holds {np.asarray(actions[row]).tolist()} in {at(row)}, outside the "
                             f"declared action bounds {low.tolist()} .. {high.tolist()}")


def load_dataset(path: str | Path, in_memory: bool = False) -> Dataset:
    """Open a dataset directory. Arrays are memory-mapped unless ``in_memory`` is true.

    Raises ``SrlBenchError`` with a clear sentence if the directory is missing, is not a dataset, or
    its metadata or arrays are truncated, malformed or inconsistent: dtypes and shapes are checked from
    the ``.npy`` headers; the values of the small arrays (states, rewards, actions, episode starts) are
    scanned for non-finite numbers and actions outside the declared space; the observations' values
    are never read.
    """
    path = Path(path)
    meta_path = path / META_FILE
    if not path.is_dir():
        raise SrlBenchError(f"dataset {path} does not exist; make one with `srl-bench generate`")
    if not meta_path.is_file():
        raise SrlBenchError(f"{path} is not a dataset (no {META_FILE}); make one with `srl-bench generate`")
    meta = read_json_object(meta_path, "regenerate the dataset")
    if meta.get("format_version") != FORMAT_VERSION:
        raise SrlBenchError(
            f"{path} has dataset format version {meta.get('format_version')!r}; this srl-bench reads "
            f"version {FORMAT_VERSION}; regenerate the dataset"
        )
    problem = meta_problem(meta)
    if problem:
        raise _invalid(path, problem)
    arrays = {}
    n_frames = meta["n_frames"]
    for name in ARRAY_NAMES:
        file = path / f"{name}.npy"
        if not file.is_file():
            raise SrlBenchError(f"{path} is incomplete: {file.name} is missing; regenerate the dataset")
        try:
            array = np.load(file, mmap_mode=None if in_memory else "r")
        except (ValueError, OSError, EOFError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
            raise SrlBenchError(f"{file} is truncated or corrupt ({reason}); regenerate the dataset") from None
        dtype, ndim, described = _array_spec(name, meta["action_space"])
        if array.dtype != np.dtype(dtype) or array.ndim != ndim:
            raise _invalid(path, f"{file.name} holds a {array.dtype} array of shape {tuple(array.shape)}, but {name} "
                                 f"must be {described}")
        if len(array) != n_frames:
            raise _invalid(path, f"{file.name} has {len(array)} rows but meta.json says {n_frames} frames")
        arrays[name] = array
    _check_arrays(path, meta, arrays)
    return Dataset(path=path, meta=meta, **arrays)
