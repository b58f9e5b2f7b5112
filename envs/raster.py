"""A tiny anti-aliased NumPy rasteriser that draws frames directly at the observation size.

Shapes are given in a world frame of "canvas units" with y pointing up, mapped onto an
``(height, width)`` pixel grid through a rectangular view. Every shape is drawn only inside its own
bounding box, with per-pixel coverage (exact for axis-aligned rectangles, supersampled for rotated
shapes), so a frame of a few shapes costs tens of microseconds at 64×64.
"""

from __future__ import annotations

import math

import numpy as np

Color = tuple[float, float, float]


class Canvas:
    """Draws axis-aligned rectangles, rotated segments and discs onto an RGB float image."""

    def __init__(
        self,
        height: int,
        width: int,
        view: tuple[float, float, float, float],
        background: Color = (255.0, 255.0, 255.0),
        supersample: int = 2,
    ) -> None:
        self.height, self.width = height, width
        self.x0, self.x1, self.y0, self.y1 = view
        self.px = (self.x1 - self.x0) / width  # canvas units per pixel, horizontally
        self.py = (self.y1 - self.y0) / height
        self.supersample = supersample
        offsets = (np.arange(supersample) + 0.5) / supersample  # sub-pixel sample positions
        cols = (np.arange(width)[:, None] + offsets[None, :]).reshape(1, -1)
        rows = (np.arange(height)[:, None] + offsets[None, :]).reshape(-1, 1)
        self._sample_xs = self.x0 + cols * self.px
        self._sample_ys = self.y1 - rows * self.py
        self._pixel_index = np.arange(max(height, width), dtype=np.float32)
        self.image = np.empty((height, width, 3), dtype=np.float32)
        self.image[...] = np.asarray(background, dtype=np.float32)
        self._background = self.image.copy()

    def keep_as_background(self) -> None:
        """Make the current image the one ``clear`` restores (for static parts of a scene)."""
        self._background = self.image.copy()

    def clear(self) -> None:
        """Restore the background."""
        np.copyto(self.image, self._background)

    def to_uint8(self) -> np.ndarray:
        """The image as ``uint8`` (H, W, 3)."""
        return np.clip(self.image + 0.5, 0, 255).astype(np.uint8)

    # -- coordinate helpers -------------------------------------------------------------------
    def _col(self, x: float) -> float:
        return (x - self.x0) / self.px

    def _row(self, y: float) -> float:
        return (self.y1 - y) / self.py

    def _blend(self, r0: int, c0: int, coverage: np.ndarray, color: Color) -> None:
        region = self.image[r0 : r0 + coverage.shape[0], c0 : c0 + coverage.shape[1]]
        region += coverage[..., None] * (np.asarray(color, dtype=np.float32) - region)

    def _bbox(self, xmin: float, xmax: float, ymin: float, ymax: float) -> tuple[int, int, int, int]:
        c0 = max(math.floor(self._col(xmin)), 0)
        c1 = min(math.ceil(self._col(xmax)), self.width)
        r0 = max(math.floor(self._row(ymax)), 0)
        r1 = min(math.ceil(self._row(ymin)), self.height)
        return r0, r1, c0, c1

    def _samples(self, r0: int, r1: int, c0: int, c1: int) -> tuple[np.ndarray, np.ndarray]:
        """World coordinates of the sub-pixel samples in a pixel box: xs (1, cols*s), ys (rows*s, 1)."""
        s = self.supersample
        return self._sample_xs[:, c0 * s : c1 * s], self._sample_ys[r0 * s : r1 * s, :]

    def _coverage(self, inside: np.ndarray, n_rows: int, n_cols: int) -> np.ndarray:
        s = self.supersample
        counts = inside.reshape(n_rows, s, n_cols, s).sum(axis=(1, 3), dtype=np.float32)
        return counts * (1.0 / (s * s))

    # -- shapes -------------------------------------------------------------------------------
    def fill_rect(self, xmin: float, xmax: float, ymin: float, ymax: float, color: Color) -> None:
        """An axis-aligned rectangle, with exact area coverage at its edges."""
        r0, r1, c0, c1 = self._bbox(xmin, xmax, ymin, ymax)
        if r1 <= r0 or c1 <= c0:
            return
        cols = self._pixel_index[c0:c1]
        rows = self._pixel_index[r0:r1]
        cx = np.minimum(cols + 1, self._col(xmax)) - np.maximum(cols, self._col(xmin))
        cy = np.minimum(rows + 1, self._row(ymin)) - np.maximum(rows, self._row(ymax))
        self._blend(r0, c0, cy[:, None] * cx[None, :], color)

    def fill_segment(
        self,
        start: tuple[float, float],
        end: tuple[float, float],
        half_width: float,
        color: Color,
        round_caps: bool = False,
    ) -> None:
        """A rotated rectangle of the given half-width along a segment (a capsule if round_caps)."""
        (ax, ay), (bx, by) = start, end
        pad = half_width
        r0, r1, c0, c1 = self._bbox(min(ax, bx) - pad, max(ax, bx) + pad, min(ay, by) - pad, max(ay, by) + pad)
        if r1 <= r0 or c1 <= c0:
            return
        xs, ys = self._samples(r0, r1, c0, c1)
        dx, dy = bx - ax, by - ay
        length = float(np.hypot(dx, dy)) or 1e-9
        ux, uy = dx / length, dy / length
        rx, ry = xs - ax, ys - ay
        along = rx * ux + ry * uy
        across = rx * uy - ry * ux
        if round_caps:
            t = np.clip(along, 0.0, length)
            inside = (along - t) ** 2 + across**2 <= half_width**2
        else:
            inside = (along >= 0) & (along <= length) & (np.abs(across) <= half_width)
        self._blend(r0, c0, self._coverage(inside, r1 - r0, c1 - c0), color)

    def fill_disc(self, center: tuple[float, float], radius: float, color: Color) -> None:
        """A filled disc."""
        cx, cy = center
        r0, r1, c0, c1 = self._bbox(cx - radius, cx + radius, cy - radius, cy + radius)
        if r1 <= r0 or c1 <= c0:
            return
        xs, ys = self._samples(r0, r1, c0, c1)
        inside = (xs - cx) ** 2 + (ys - cy) ** 2 <= radius**2
        self._blend(r0, c0, self._coverage(inside, r1 - r0, c1 - c0), color)
