"""A tiny anti-aliased NumPy rasteriser that draws frames directly at the observation size.

Shapes are given in a world frame of "canvas units" with y pointing up, mapped onto an
``(height, width)`` pixel grid through a rectangular view. Every shape is drawn only inside its own
bounding box, with per-pixel coverage (exact for axis-aligned rectangles, supersampled for rotated
shapes), so a frame of a few shapes costs tens of microseconds at 64×64.

``BatchCanvas`` draws the same shapes into many frames at once, pixel for pixel as ``Canvas`` draws
each (tests/test_vector_envs.py checks it on random shapes); the batched envs draw through it.
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




_BIG = np.iinfo(np.int64).max
_PIXEL_F32 = np.dtype((np.void, 12))  # one RGB float32 pixel as a single element, for fast take / put
_PIXEL_U8 = np.dtype((np.void, 3))


class BatchCanvas:
    """Draws a batch of frames at once, each pixel for pixel what a ``Canvas`` of the same geometry
    draws with the same shapes: the same float64 geometry and sub-pixel samples, the same float32
    blending, element by element.

    Shape coordinates are arrays with one entry per frame (or scalars shared by all frames); sizes
    (``half_width``, ``radius``) are scalars. ``clear(n)`` starts ``n`` frames, the shapes are drawn
    in order, ``to_uint8()`` returns the ``(n, H, W, 3)`` frames.

    How it stays exact and fast. A shape touches only the pixels it covers, listed flat across the
    batch. Rectangles get ``Canvas``'s area formula in their box. Rotated segments and discs (convex)
    are scan-converted: for each sub-pixel sample row of a frame's box (``Canvas._bbox``), the chord of
    the shape grown and of the shape shrunk by ``eps`` (a million times float64's rounding at these
    coordinates) is found analytically; samples on the shrunk chord pass ``Canvas``'s test, samples
    off the grown one fail it, and the (almost never present) samples in between get ``Canvas``'s
    own test. The inside samples counted per pixel are ``Canvas``'s coverage. The float frames stay
    equal to the background between draws; only the pixels drawn on are blended, converted to
    ``uint8`` and restored.
    """

    def __init__(self, canvas: Canvas) -> None:
        self.height, self.width = canvas.height, canvas.width
        self.x0, self.x1, self.y0, self.y1 = canvas.x0, canvas.x1, canvas.y0, canvas.y1
        self.px, self.py = canvas.px, canvas.py
        self.supersample = canvas.supersample
        self._sample_x = np.ascontiguousarray(canvas._sample_xs[0])  # (W * s,), increasing
        self._sample_y = np.ascontiguousarray(canvas._sample_ys[:, 0])  # (H * s,), decreasing
        self._pixels = self.height * self.width
        self._background = np.ascontiguousarray(canvas._background.reshape(-1, 3))
        self._background_u8 = np.clip(canvas._background + 0.5, 0, 255).astype(np.uint8)
        self._scale = 1.0 + max(abs(self.x0), abs(self.x1), abs(self.y0), abs(self.y1))
        self._background_pixels = self._background.view(_PIXEL_F32).reshape(-1)
        self._work = np.empty((0, 3), dtype=np.float32)  # (n * H * W, 3): the float frames, flat
        self._work_pixels = self._work.view(_PIXEL_F32).reshape(-1)  # the same, one element per pixel
        self._touched: list[np.ndarray] = []  # flat pixel indices drawn on since clear()
        self._samples_padded = np.concatenate([[-np.inf], self._sample_x, [np.inf]])
        self.n = 0

    # -- frames -------------------------------------------------------------------------------
    def clear(self, n: int) -> None:
        """Start ``n`` frames showing the background."""
        if self._touched:  # put the background back where the last frames were drawn on
            index = np.concatenate(self._touched)
            np.put(self._work_pixels, index, self._background_pixels.take(index % self._pixels))
            self._touched.clear()
        if len(self._work) < n * self._pixels:
            self._work = np.tile(self._background, (n, 1))
            self._work_pixels = self._work.view(_PIXEL_F32).reshape(-1)
        self.n = n

    def to_uint8(self, out: np.ndarray | None = None) -> np.ndarray:
        """The frames as ``uint8`` ``(n, H, W, 3)`` (written into the C-contiguous ``out`` if given)."""
        frames = np.empty((self.n, self.height, self.width, 3), dtype=np.uint8) if out is None else out
        frames[...] = self._background_u8
        if self._touched:
            index = np.concatenate(self._touched)
            region = self._work.take(index, axis=0)
            region += 0.5
            np.maximum(region, 0, out=region)  # np.clip(image + 0.5, 0, 255), as Canvas.to_uint8
            pixels = np.minimum(region, 255, out=region).astype(np.uint8)
            np.put(frames.reshape(-1, 3).view(_PIXEL_U8).reshape(-1), index, pixels.view(_PIXEL_U8).reshape(-1))
        return frames

    def _blend(self, index: np.ndarray, coverage: np.ndarray, color: Color) -> None:
        """Canvas._blend at the distinct flat pixels ``index`` with their float32 ``coverage``."""
        region = self._work.take(index, axis=0)
        for channel, value in enumerate(np.asarray(color, dtype=np.float32)):
            pixels = region[:, channel]  # one long strided loop per channel
            change = np.subtract(value, pixels)
            change *= coverage
            pixels += change  # region += coverage * (color - region), as Canvas._blend
        np.put(self._work_pixels, index, region.view(_PIXEL_F32).reshape(-1))
        self._touched.append(index)

    # -- geometry -----------------------------------------------------------------------------
    def _values(self, value) -> np.ndarray:
        array = np.asarray(value, dtype=np.float64)
        return array if array.shape == (self.n,) else np.broadcast_to(array, (self.n,))

    def _box(self, xmin, xmax, ymin, ymax):
        """Per frame ``Canvas._bbox``: rows r0..r1 and columns c0..c1 (ints, empty rows where nothing
        shows), and the largest height; None when no frame shows anything."""
        c0 = np.minimum(np.maximum(np.floor((xmin - self.x0) / self.px), 0), self.width + 1)
        c1 = np.minimum(np.maximum(np.ceil((xmax - self.x0) / self.px), -1), self.width)
        r0 = np.minimum(np.maximum(np.floor((self.y1 - ymax) / self.py), 0), self.height + 1)
        r1 = np.minimum(np.maximum(np.ceil((self.y1 - ymin) / self.py), -1), self.height)
        finite = np.isfinite(c0) & np.isfinite(c1) & np.isfinite(r0) & np.isfinite(r1)
        c0, c1, r0, r1 = (np.where(finite, v, 0).astype(np.int64) for v in (c0, c1, r0, r1))
        drawn = finite & (r1 > r0) & (c1 > c0)
        if not np.count_nonzero(drawn):
            return None
        r0 = np.minimum(r0, self.height)
        r1 = np.where(drawn, r1, r0)  # no rows: nothing drawn
        return r0, r1, c0, c1, int((r1 - r0).max())

    def _index(self, frame: np.ndarray, row: np.ndarray, col: np.ndarray) -> np.ndarray:
        return (frame * self.height + row) * self.width + col

    # -- shapes (as Canvas's, one per frame) --------------------------------------------------
    def fill_rect(self, xmin, xmax, ymin, ymax, color: Color) -> None:
        """Axis-aligned rectangles, with exact area coverage at their edges."""
        xmin, xmax, ymin, ymax = (self._values(v) for v in (xmin, xmax, ymin, ymax))
        box = self._box(xmin, xmax, ymin, ymax)
        if box is None:
            return
        r0, r1, c0, c1, wh = box
        ww = int(np.maximum(c1 - c0, 0)[r1 > r0].max())
        rows = r0[:, None] + np.arange(wh)
        cols = c0[:, None] + np.arange(ww)
        f32 = np.float32
        col_min, col_max = ((v - self.x0) / self.px for v in (xmin, xmax))
        row_min, row_max = ((self.y1 - v) / self.py for v in (ymin, ymax))
        colf, rowf = cols.astype(f32), rows.astype(f32)
        cx = np.minimum(colf + 1, col_max.astype(f32)[:, None]) - np.maximum(colf, col_min.astype(f32)[:, None])
        cy = np.minimum(rowf + 1, row_min.astype(f32)[:, None]) - np.maximum(rowf, row_max.astype(f32)[:, None])
        coverage = cy[:, :, None] * cx[:, None, :]
        inside = ((rows < r1[:, None])[:, :, None] & (cols < c1[:, None])[:, None, :]) & (coverage != 0)
        picked = np.flatnonzero(inside)
        frame, rest = np.divmod(picked, wh * ww)
        index = self._index(frame, r0[frame] + rest // ww, c0[frame] + rest % ww)
        self._blend(index, coverage.reshape(-1)[picked], color)

    def fill_segment(self, start, end, half_width: float, color: Color, round_caps: bool = False) -> None:
        """Rotated rectangles of the given half-width along segments (capsules if round_caps)."""
        ax, ay, bx, by = (self._values(v) for v in (*start, *end))
        pad = half_width
        box = self._box(np.minimum(ax, bx) - pad, np.maximum(ax, bx) + pad,
                        np.minimum(ay, by) - pad, np.maximum(ay, by) + pad)
        if box is None:
            return
        dx, dy = bx - ax, by - ay
        length = np.hypot(dx, dy)
        length = np.where(length == 0, 1e-9, length)  # Canvas: float(np.hypot(dx, dy)) or 1e-9
        ux, uy = dx / length, dy / length
        h = half_width
        margin = self._margin(h, ax, ay, bx, by)  # (2, 1, 1): shrink, grow
        ax_, ay_, bx_, by_, ux_, uy_, len_ = (v[:, None] for v in (ax, ay, bx, by, ux, uy, length))

        def chords(ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            ry = ys - ay_
            if round_caps:  # the capsule of radius h ± eps: a strip and two discs
                radius = h + margin
                lo, hi = _strip_chord(ry, ax_, ux_, uy_, (0.0, len_), (-radius, radius))
                for cx, cy in ((ax_, ay_), (bx_, by_)):
                    disc_lo, disc_hi = _disc_chord(ys, cx, cy, radius)
                    lo, hi = np.minimum(lo, disc_lo), np.maximum(hi, disc_hi)
                return lo, hi
            return _strip_chord(ry, ax_, ux_, uy_, (-margin, len_ + margin), (-(h + margin), h + margin))

        def test(frame: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
            """Canvas.fill_segment's own inside test, on single samples."""
            rx, ry = xs - ax[frame], ys - ay[frame]
            along = rx * ux[frame] + ry * uy[frame]
            across = rx * uy[frame] - ry * ux[frame]
            if round_caps:
                t = np.clip(along, 0.0, length[frame])
                return (along - t) ** 2 + across**2 <= half_width**2
            return (along >= 0) & (along <= length[frame]) & (np.abs(across) <= half_width)

        self._scan(box, chords, test, color)

    def fill_disc(self, center, radius: float, color: Color) -> None:
        """Filled discs."""
        cx, cy = (self._values(v) for v in center)
        box = self._box(cx - radius, cx + radius, cy - radius, cy + radius)
        if box is None:
            return
        radii = radius + self._margin(radius, cx, cy)
        cx_, cy_ = cx[:, None], cy[:, None]

        def test(frame: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
            return (xs - cx[frame]) ** 2 + (ys - cy[frame]) ** 2 <= radius**2

        self._scan(box, lambda ys: _disc_chord(ys, cx_, cy_, radii), test, color)

    def _margin(self, size: float, *coordinates: np.ndarray) -> np.ndarray:
        """``[-eps, +eps]`` as (2, 1, 1): eps is a million times float64's rounding at this scale."""
        values = np.abs(np.concatenate(coordinates))
        largest = float(values.max(initial=0.0, where=np.isfinite(values)))
        eps = 1e-9 * (self._scale + largest + abs(size))
        return np.array([-eps, eps])[:, None, None]

    def _first_sample(self, x: np.ndarray, beyond: bool) -> np.ndarray:
        """Per entry, the first sample column whose x is ``>= x`` (``> x`` if ``beyond``), as
        ``np.searchsorted(sample_x, x, "left" / "right")``: an estimate from the sample spacing,
        then a one-column correction against the sample positions themselves."""
        count = len(self._sample_x)
        guess = np.minimum(np.maximum(np.ceil((x - self.x0) * (self.supersample / self.px) - 0.5), 0), count)
        j = np.where(guess == guess, guess, count).astype(np.int64)  # NaN: past the end, as searchsorted
        before, at = self._samples_padded[j], self._samples_padded[j + 1]  # columns j - 1 and j
        if beyond:
            j = j - (before > x) + (at <= x)
        else:
            j = j - (before >= x) + (at < x)
        return np.minimum(np.maximum(j, 0, out=j), count, out=j)

    def _scan(self, box, chords, test, color: Color) -> None:
        """Coverage of a convex shape in each frame's box, from the chords of its sample rows.

        ``chords(ys)`` gives, per sample row y (n, rows), the x-intervals ``(lo, hi)`` (2, n, rows) of
        the shape shrunk (first) and grown (second), empty as lo > hi; ``test(frame, xs, ys)`` is
        ``Canvas``'s inside test, for the samples between the two.
        """
        r0, r1, c0, c1, wh = box
        s = self.supersample
        n = self.n
        sample_rows = (r0 * s)[:, None] + np.arange(wh * s)  # (n, wh*s)
        in_box = sample_rows < (r1 * s)[:, None]
        ys = self._sample_y[np.minimum(sample_rows, len(self._sample_y) - 1)]
        lo, hi = chords(ys)
        xs = self._sample_x
        # per sample row, runs of sample columns inside the frame's box: [ja, jb] surely inside the
        # shape, [oa, ob] perhaps
        first, last = (c0 * s)[:, None], (c1 * s - 1)[:, None]
        start = np.maximum(self._first_sample(lo, beyond=False), first)
        stop = np.minimum(self._first_sample(hi, beyond=True) - 1, last)
        oa, ob = start[1], np.where(in_box, stop[1], start[1] - 1)
        ja, jb = np.maximum(start[0], oa), np.minimum(stop[0], ob)
        # the pixels to visit: per pixel row, every column holding a sample that may be inside
        some = oa <= ob
        sub_lo = np.where(some, oa, _BIG)
        sub_hi = np.where(some, ob, -1)
        # over each pixel row's s sample rows (slices, not a reduction over a tiny axis)
        span_lo = np.minimum.reduce([sub_lo[:, k::s] for k in range(s)]) // s
        span_hi = np.maximum.reduce([sub_hi[:, k::s] for k in range(s)]) // s
        lengths = np.maximum(span_hi - span_lo + 1, 0).reshape(-1)
        total = int(lengths.sum())
        if total == 0:
            return
        span = np.repeat(np.arange(n * wh), lengths)  # (frame, pixel row) of each visited pixel
        starts = np.cumsum(lengths) - lengths
        span_lo = span_lo.reshape(-1)
        cols = span_lo.take(span) + (np.arange(total) - starts.take(span))
        first_sample = cols * s
        counts = np.zeros(total, dtype=np.int64)
        for k in range(s):  # the pixels' sample row k: its surely-inside samples
            run_lo = np.maximum(ja.reshape(-1, s)[:, k].take(span), first_sample)
            run_hi = np.minimum(jb.reshape(-1, s)[:, k].take(span), first_sample + (s - 1))
            run_hi -= run_lo
            run_hi += 1
            counts += np.maximum(run_hi, 0, out=run_hi)
        # the samples between the shrunk and the grown chord get Canvas's own test
        has_inner = ja <= jb
        for lo_, hi_ in ((oa, np.where(has_inner, ja - 1, ob)), (np.where(has_inner, jb + 1, ob + 1), ob)):
            count = np.maximum(hi_ - lo_ + 1, 0).reshape(-1)
            if not np.count_nonzero(count):
                continue
            cell = np.repeat(np.arange(count.size), count)  # (frame, sample row) of each sample
            j = lo_.reshape(-1)[cell] + (np.arange(cell.size) - (np.cumsum(count) - count)[cell])
            frame, row = np.divmod(cell, wh * s)
            passed = test(frame, xs[j], ys.reshape(-1)[cell])
            pixel_row = frame[passed] * wh + row[passed] // s
            counts += np.bincount(starts[pixel_row] + (j[passed] // s - span_lo[pixel_row]), minlength=total)
        keep = np.flatnonzero(counts)
        frame, row = np.divmod(span[keep], wh)
        index = self._index(frame, r0[frame] + row, cols[keep])
        self._blend(index, counts[keep].astype(np.float32) * (1.0 / (s * s)), color)


def _linear_interval(k: np.ndarray, c: np.ndarray, lo, hi) -> tuple[np.ndarray, np.ndarray]:
    """The interval of r where ``lo <= r * k + c <= hi`` (empty as lo > hi; k == 0: all or nothing)."""
    flat = k == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        p, q = (lo - c) / k, (hi - c) / k
    rising = k > 0  # a negative k swaps the bounds (and keeps an empty range, lo > hi, empty)
    rlo, rhi = np.where(rising, p, q), np.where(rising, q, p)
    if np.count_nonzero(flat):  # where k == 0, r * k + c is c for every r
        always = (c >= lo) & (c <= hi)
        rlo = np.where(flat, np.where(always, -np.inf, np.inf), rlo)
        rhi = np.where(flat, np.where(always, np.inf, -np.inf), rhi)
    return rlo, rhi


def _strip_chord(ry, ax, ux, uy, along, across) -> tuple[np.ndarray, np.ndarray]:
    """x-interval of the rows (``ry = y - ay``) where ``along`` and ``across`` (as in
    ``Canvas.fill_segment``) lie in their ranges; empty as (inf, -inf), so unions can ignore it."""
    lo1, hi1 = _linear_interval(ux, ry * uy, *along)
    lo2, hi2 = _linear_interval(uy, -(ry * ux), *across)
    lo, hi = ax + np.maximum(lo1, lo2), ax + np.minimum(hi1, hi2)
    empty = ~(lo <= hi)
    return np.where(empty, np.inf, lo), np.where(empty, -np.inf, hi)


def _disc_chord(ys, cx, cy, radius) -> tuple[np.ndarray, np.ndarray]:
    """x-interval of the rows ys inside the disc(s) of ``radius`` around (cx, cy); empty as (inf, -inf)."""
    q = radius * radius - (ys - cy) ** 2
    half = np.sqrt(np.maximum(q, 0.0))
    met = (q >= 0) & (radius >= 0)
    return np.where(met, cx - half, np.inf), np.where(met, cx + half, -np.inf)
