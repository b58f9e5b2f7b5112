"""What an encoder sees of a dataset's rows: the frame, or the last k frames of its episode.

With ``frame_stack = k`` the input of row t is frames t−k+1 .. t of its episode stacked along the
channels, oldest first (H×W×3k); frames before the episode's start are black (zeros). That is what
Stable-Baselines3's ``VecFrameStack`` gives an agent after a reset, so an encoder sees the same input
when scored on a dataset and when it drives an agent.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


class RowReader:
    """Rows of a ``.npy`` file read with ``os.pread`` (runs of consecutive rows in one call each):
    indexable like the array (``reader[rows]``, ``reader[a:b]``), but what it reads lands in the page
    cache, not in this process's resident memory as a memory map's touched pages do; a dataset many
    times larger than RAM is read with memory bounded by one batch."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        with open(self.path, "rb") as handle:
            major, _ = np.lib.format.read_magic(handle)
            read_header = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
            shape, fortran, dtype = read_header(handle)
            self.offset = handle.tell()
        if fortran:
            raise ValueError(f"{self.path} is stored in Fortran order; srl-bench datasets are C-ordered")
        self.shape, self.dtype = tuple(shape), np.dtype(dtype)
        self.row_bytes = int(np.prod(self.shape[1:], dtype=np.int64)) * self.dtype.itemsize
        self._fd: int | None = None

    def __len__(self) -> int:
        return self.shape[0]

    @property
    def nbytes(self) -> int:
        return self.shape[0] * self.row_bytes

    def _descriptor(self) -> int:
        if self._fd is None:  # opened lazily: a reader handed to another process opens its own
            self._fd = os.open(self.path, os.O_RDONLY)
        return self._fd

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_fd": None}

    def __del__(self) -> None:
        if getattr(self, "_fd", None) is not None:
            os.close(self._fd)

    def __getitem__(self, index) -> np.ndarray:
        if isinstance(index, slice):
            index = np.arange(*index.indices(self.shape[0]))
        rows = np.asarray(index, dtype=np.int64).reshape(-1)
        if len(rows) and (rows.min() < 0 or rows.max() >= self.shape[0]):
            raise IndexError(f"row out of range 0..{self.shape[0] - 1}")
        order = np.argsort(rows, kind="stable")
        wanted = rows[order]
        out = np.empty((len(rows), *self.shape[1:]), dtype=self.dtype)
        flat = out.reshape(len(rows), -1).view(np.uint8).reshape(len(rows), self.row_bytes)
        fd = self._descriptor()
        breaks = np.flatnonzero(np.diff(wanted) != 1) + 1
        for start, stop in zip(np.r_[0, breaks], np.r_[breaks, len(wanted)]):
            first, count = int(wanted[start]), int(stop - start)
            data = os.pread(fd, count * self.row_bytes, self.offset + first * self.row_bytes)
            flat[order[start:stop]] = np.frombuffer(data, np.uint8).reshape(count, self.row_bytes)
        return out


def stacked_rows(observations: np.ndarray, episode_first_row: np.ndarray, rows: np.ndarray, frame_stack: int) -> np.ndarray:
    """uint8 (len(rows), H, W, C·k): each row with the k−1 frames before it in its episode.

    ``episode_first_row[r]`` is the first row of row r's episode. Reads only the rows needed, in
    increasing order (cheap on a memory-mapped array).
    """
    rows = np.asarray(rows, dtype=np.int64)
    if frame_stack == 1:
        return np.asarray(observations[rows])
    offsets = np.arange(frame_stack - 1, -1, -1)  # k−1 .. 0 frames back: oldest first
    wanted = rows[:, None] - offsets[None, :]
    valid = wanted >= episode_first_row[rows][:, None]
    needed, inverse = np.unique(wanted[valid], return_inverse=True)
    frames = np.asarray(observations[needed])
    out = np.zeros((len(rows), frame_stack, *observations.shape[1:]), dtype=observations.dtype)
    out[valid] = frames[inverse]
    # (n, k, H, W, C) -> (n, H, W, k·C): channels of the oldest frame first
    return np.moveaxis(out, 1, 3).reshape(len(rows), *observations.shape[1:3], frame_stack * observations.shape[3])


class RowFrames:
    """The encoder inputs of ``rows`` of a dataset, gathered a slice at a time (never all at once), for
    ``Encoder.encode``/``encode_images``: ``len()`` and slicing give uint8 N×H×W×(C·k) batches."""

    def __init__(self, dataset, rows: np.ndarray, frame_stack: int = 1) -> None:
        self.observations = RowReader(Path(dataset.path) / "observations.npy")
        self.rows = np.asarray(rows, dtype=np.int64)
        self.frame_stack = int(frame_stack)
        first_rows = np.flatnonzero(np.asarray(dataset.episode_starts))
        self.episode_first_row = first_rows[np.asarray(dataset.episode_ids)]

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: slice) -> np.ndarray:
        return stacked_rows(self.observations, self.episode_first_row, self.rows[index], self.frame_stack)

    @property
    def shape(self) -> tuple[int, ...]:
        h, w, c = self.observations.shape[1:]
        return (len(self.rows), h, w, c * self.frame_stack)
