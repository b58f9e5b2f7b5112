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
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from srl_bench.errors import SrlBenchError
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

    Arrays are appended as raw bytes while episodes arrive (memory stays bounded by one episode),
    then each is turned into a ``.npy`` file. Construction only checks ``out_dir`` (see
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

    def add_episode(self, arrays: dict[str, np.ndarray]) -> None:
        """Append one episode: a dict of the arrays in ``ARRAY_NAMES``, all of the same length."""
        if not self._publisher.begun:
            raise RuntimeError("DatasetWriter.add_episode needs begin() (or a with block) first")
        lengths = {len(arrays[name]) for name in ARRAY_NAMES}
        if len(lengths) != 1:
            raise ValueError(f"episode arrays differ in length: { {k: len(arrays[k]) for k in ARRAY_NAMES} }")
        for name in ARRAY_NAMES:
            array = np.ascontiguousarray(arrays[name])
            spec = (array.dtype, array.shape[1:])
            if name not in self._specs:
                self._specs[name] = spec
                self._files[name] = open(self.tmp_dir / f"{name}.raw", "wb")
            elif self._specs[name] != spec:
                raise ValueError(f"{name}: episode has dtype/shape {spec}, expected {self._specs[name]}")
            self._files[name].write(array.tobytes())
        self.n_frames += lengths.pop()
        self.n_episodes += 1
        self.episode_lengths.append(len(arrays["rewards"]) - 1)  # environment steps (rows - 1)

    def close(self, meta: dict[str, Any]) -> Path:
        """Write the ``.npy`` files and ``meta.json``, then move the directory into place."""
        if self.n_episodes == 0:
            self.abort()
            raise SrlBenchError("no episode was collected; ask for at least one episode")
        checksums = {}
        for name, handle in self._files.items():
            handle.close()
            dtype, tail = self._specs[name]
            raw = self.tmp_dir / f"{name}.raw"
            target = self.tmp_dir / f"{name}.npy"
            with open(target, "wb") as out, open(raw, "rb") as src:
                header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False,
                          "shape": (self.n_frames, *tail)}
                np.lib.format.write_array_header_1_0(out, header)
                shutil.copyfileobj(src, out, 1 << 22)
            raw.unlink()
            checksums[f"{name}.npy"] = sha256_file(target)
        meta = {"format_version": FORMAT_VERSION, **meta, "n_frames": self.n_frames,
                "n_episodes": self.n_episodes, "checksums": checksums}
        with open(self.tmp_dir / META_FILE, "w") as handle:
            json.dump(meta, handle, indent=2)
        return self._publisher.publish()

    def abort(self) -> None:
        """Drop everything written so far; an existing dataset at ``out_dir`` stays as it was."""
        for handle in self._files.values():
            handle.close()
        self._publisher.abort()


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


def load_dataset(path: str | Path, in_memory: bool = False) -> Dataset:
    """Open a dataset directory. Arrays are memory-mapped unless ``in_memory`` is true.

    Raises ``SrlBenchError`` with a clear sentence if the directory is missing, is not a dataset, or
    its arrays are truncated or inconsistent.
    """
    path = Path(path)
    meta_path = path / META_FILE
    if not path.is_dir():
        raise SrlBenchError(f"dataset {path} does not exist; make one with `srl-bench generate`")
    if not meta_path.is_file():
        raise SrlBenchError(f"{path} is not a dataset (no {META_FILE}); make one with `srl-bench generate`")
    try:
        meta = json.loads(meta_path.read_text())
    except json.JSONDecodeError as exc:
        raise SrlBenchError(f"{meta_path} is not valid JSON ({exc.msg}); regenerate the dataset") from exc
    if meta.get("format_version") != FORMAT_VERSION:
        raise SrlBenchError(
            f"{path} has dataset format version {meta.get('format_version')!r}; this srl-bench reads "
            f"version {FORMAT_VERSION}; regenerate the dataset"
        )
    arrays = {}
    n_frames = meta.get("n_frames")
    for name in ARRAY_NAMES:
        file = path / f"{name}.npy"
        if not file.is_file():
            raise SrlBenchError(f"{path} is incomplete: {file.name} is missing; regenerate the dataset")
        try:
            array = np.load(file, mmap_mode=None if in_memory else "r")
        except (ValueError, OSError, EOFError) as exc:
            raise SrlBenchError(f"{file} is truncated or corrupt ({exc}); regenerate the dataset") from exc
        if len(array) != n_frames:
            raise SrlBenchError(
                f"{file} has {len(array)} rows but meta.json says {n_frames}; regenerate the dataset"
            )
        arrays[name] = array
    if n_frames == 0 or not arrays["episode_starts"][0]:
        raise SrlBenchError(f"{path} is inconsistent: its first row does not start an episode")
    return Dataset(path=path, meta=meta, **arrays)
