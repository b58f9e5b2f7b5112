"""What an encoder sees of a dataset's rows: the frame, or the last k frames of its episode.

With ``frame_stack = k`` the input of row t is frames t−k+1 .. t of its episode stacked along the
channels, oldest first (H×W×3k); frames before the episode's start are black (zeros). That is what
Stable-Baselines3's ``VecFrameStack`` gives an agent after a reset, so an encoder sees the same input
when scored on a dataset and when it drives an agent.
"""

from __future__ import annotations

import numpy as np


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
        self.observations = dataset.observations
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
