"""MiniPacman (``srl/MiniPacman-v0``): the grid game of Weber et al. (2017), "Imagination-Augmented
Agents for Deep Reinforcement Learning", played by the rules of ``docs/minipacman.md``.

Board. A fixed 15×19 maze (row 0 at the top). Pacman, 1 + ⌊(L − 1)/2⌋ ghosts (capped at
``max_ghosts``, see below), food on every free cell and 2 power pills. Actions: 0 stay, 1 right,
2 up, 3 left, 4 down; a move into a wall stays put. Five modes (``regular``, ``avoid``, ``hunt``,
``ambush``, ``rush``) differ only in their rewards and in when a level ends (``MODES``).

Picture. One cell is one colour, first that applies: Pacman green (0, 255, 0); ghost (255, 255·e, 0)
with e = power time / 20, i.e. red when dangerous, yellow just after a pill; power pill cyan
(0, 255, 255); food blue (0, 0, 255); wall white; empty black.

Board → image. Each axis is scaled by the largest whole factor that fits, ``H // 15`` rows and
``W // 19`` columns per cell, and the scaled board is centred on a black frame. At the default
64×64 every cell is a 4-tall × 3-wide block and the board fills 60×57 pixels (2 black rows above,
2 below, 3 black columns left, 4 right); at 60×76 each cell is 4×4 with no padding. Why whole
factors, and why per axis: every cell is the same block of pixels wherever it is, so a ghost looks
identical in every corridor (a CNN's shared weights see one pattern, and a human sees an even grid),
whereas a nearest-neighbour stretch to 64×64 makes cells 4 or 5 pixels tall and 3 or 4 wide
depending on where they are; and per-axis factors use 83% of a 64×64 frame where one common factor
(3 → 45×57) uses 63%, giving each object 12 pixels instead of 9. The outer wall is white, so the
black padding never reads as part of the maze. Sizes below 15×19 are refused
(they cannot show every cell). Rendering paints the 15×19 cell colours, then makes the frame in one
gather (``np.take``) through a precomputed pixel → cell index map.

Ground-truth state (``info["state"]``, float32, named by ``env.state_names``, each entry's kind in
``env.state_kinds``)::

    pacman_row, pacman_col                      continuous
    ghost{k}_row, ghost{k}_col                  optional      for k in 0 .. max_ghosts − 1
    pill{k}_row, pill{k}_col                    optional      for k in 0, 1
    ghosts_left, pills_left                     categorical
    food_left                                   continuous
    powered                                     categorical
    power_time                                  continuous
    level                                       categorical

Rows and columns are cell indices (0..14, 0..18). Ghosts look alike, so which ghost is which cannot
be told from a frame; the state lists the ghosts on the board (and the pills) in reading order
(by row, then column), so ``ghost0`` is the topmost ghost of the picture, and the entries past the
count read ``ABSENT = -1``. Every entry is thus a function of what the frame shows. ``powered`` is 1
while a power pill is active (the ghosts are edible), else 0; ``power_time`` counts down from 20 to
0; ``food_left`` counts the food. The metrics (``docs/metrics.md``) regress the continuous entries,
regress each optional one on the frames where its ghost or pill exists, and classify the
categorical ones. ``occupancy()`` gives the same board as one 15×19 map per entity type.

Ghost cap. Levels keep adding ghosts, so the state reserves ``max_ghosts`` ghost entries (default 4): the
most that ``regular`` and ``avoid`` can reach within the default 1000-step cap (avoid's 128-step
levels give level 8 at most; regular needs at least 137 steps to eat a level's 138 foods). From
the level that would exceed the cap (level 9 by default) the count stays at ``max_ghosts`` while
ghost speed keeps rising, so the state always describes every ghost on the board. Long ``hunt``
or ``rush`` episodes of a strong agent can pass level 8; raise ``max_ghosts`` to keep the
reference count there.

Randomness. Every random choice (placements, directions, ghost moves and random turns) draws from
``self.np_random``, seeded by ``reset(seed=...)``: the same seed and actions give the same episode.

Hand-made situations. ``set_board(...)`` places Pacman, ghosts (with their facing), pills, food,
power time, level and the level clock by hand, for tests, demonstrations and curricula.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from srl_bench.envs._common import FrameEnv, image_space, parse_image_size

# fmt: off
STANDARD_MAZE = np.array([
    [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
    [1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1],
    [1, 0, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0, 1],
    [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
    [1, 0, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0, 1],
    [1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1],
    [1, 0, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 0, 1],
    [1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1],
    [1, 0, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 0, 1],
    [1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1],
    [1, 0, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0, 1],
    [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
    [1, 0, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0, 1],
    [1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1],
    [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
], dtype=bool)
# fmt: on
ROWS, COLS = STANDARD_MAZE.shape

STAY, RIGHT, UP, LEFT, DOWN = range(5)
ACTION_NAMES = ("stay", "right", "up", "left", "down")
DIRECTIONS = (RIGHT, UP, LEFT, DOWN)  # the order in which free directions are listed; breaks ties
DELTAS = ((0, 0), (0, 1), (-1, 0), (0, -1), (1, 0))  # (d_row, d_col) per action
REVERSE = (STAY, LEFT, DOWN, RIGHT, UP)

ABSENT = -1.0  # state value of a ghost or pill entry past the number on the board
# what the metrics do with each state entry (docs/metrics.md): regress the numbers defined on every
# frame, regress the ghosts' and pills' cells where they exist, classify the counts, flag and level
CONTINUOUS_ENTRIES = ("pacman_row", "pacman_col", "food_left", "power_time")
_OPTIONAL_ENTRY = re.compile(r"(ghost|pill)\d+_(row|col)")
NUM_PILLS = 2
PILL_DURATION = 20
SAFE_DISTANCE = 5  # ghosts spawn outside rows r−5 … r+4 and columns c−5 … c+4 around Pacman
GHOST_SPEED_START, GHOST_SPEED_PER_LEVEL = 0.5, 0.1
AVOID_LEVEL_STEPS = 128

PACMAN_RGB = (0, 255, 0)
PILL_RGB = (0, 255, 255)
FOOD_RGB = (0, 0, 255)
WALL_RGB = (255, 255, 255)

Cell = tuple[int, int]


@dataclass(frozen=True)
class ModeRules:
    """Rewards of one mode, and what ends its levels: running out of ``"food"``, ``"ghosts"`` or ``"pills"``."""

    step: float
    food: float
    pill: float
    eat_ghost: float
    killed: float
    level_ends_when_out_of: str
    level_steps: int | None = None  # also end the level after this many steps (avoid)


MODES: dict[str, ModeRules] = {
    "regular": ModeRules(step=0.0, food=1.0, pill=2.0, eat_ghost=5.0, killed=0.0, level_ends_when_out_of="food"),
    "avoid": ModeRules(step=0.1, food=-0.1, pill=-5.0, eat_ghost=-10.0, killed=-20.0,
                       level_ends_when_out_of="food", level_steps=AVOID_LEVEL_STEPS),
    "hunt": ModeRules(step=0.0, food=0.0, pill=1.0, eat_ghost=10.0, killed=-20.0, level_ends_when_out_of="ghosts"),
    "ambush": ModeRules(step=0.0, food=-0.1, pill=0.0, eat_ghost=10.0, killed=-20.0, level_ends_when_out_of="ghosts"),
    "rush": ModeRules(step=0.0, food=-0.1, pill=10.0, eat_ghost=0.0, killed=0.0, level_ends_when_out_of="pills"),
}


def ghost_count(level: int, max_ghosts: int | None = None) -> int:
    """Ghosts at the start of ``level``: ``1 + floor((level − 1) / 2)``, capped at ``max_ghosts``."""
    count = 1 + (level - 1) // 2
    return count if max_ghosts is None else min(count, max_ghosts)


def ghost_speed(level: int) -> float:
    """Probability that a ghost moves in one step at ``level`` (≥ 1 means always); halved while a pill is active."""
    return GHOST_SPEED_START + GHOST_SPEED_PER_LEVEL * (level - 1)


# -- board tables, computed once ---------------------------------------------------------------
FREE_CELLS: tuple[Cell, ...] = tuple(
    (r, c) for r in range(ROWS) for c in range(COLS) if not STANDARD_MAZE[r, c]
)


def _neighbour(cell: Cell, action: int) -> Cell:
    """The cell reached from ``cell`` by ``action``; a wall leaves the mover where it is."""
    r, c = cell[0] + DELTAS[action][0], cell[1] + DELTAS[action][1]
    return cell if STANDARD_MAZE[r, c] else (r, c)


NEXT_CELL: dict[Cell, tuple[Cell, ...]] = {cell: tuple(_neighbour(cell, a) for a in range(5)) for cell in FREE_CELLS}
FREE_DIRECTIONS: dict[Cell, tuple[int, ...]] = {
    cell: tuple(d for d in DIRECTIONS if NEXT_CELL[cell][d] != cell) for cell in FREE_CELLS
}
GHOST_SPAWN_CELLS: dict[Cell, tuple[Cell, ...]] = {
    (pr, pc): tuple(
        (r, c) for r, c in FREE_CELLS
        if not (pr - SAFE_DISTANCE <= r < pr + SAFE_DISTANCE and pc - SAFE_DISTANCE <= c < pc + SAFE_DISTANCE)
    )
    for pr, pc in FREE_CELLS
}


def ghost_direction(
    free: Sequence[int],
    facing: int,
    to_pacman: tuple[int, int],
    fleeing: bool,
    rng: np.random.Generator | None = None,
    random_turn_probability: float = 0.0,
) -> int:
    """The direction a ghost takes next (the spec's movement rule), from its cell's free directions.

    Args:
        free: the free directions around the ghost, in the order right, up, left, down.
        facing: the ghost's current direction (1 right, 2 up, 3 left, 4 down).
        to_pacman: ``(d_row, d_col)`` from the ghost to Pacman.
        fleeing: a power pill is active (take the way least towards Pacman).
        rng, random_turn_probability: while chasing at a junction, with this probability (drawn
            from ``rng``) a uniformly random remaining way is taken instead.

    One free way (dead end): take it. Two (corridor): keep going if free, else turn the way that is
    not back (if neither is back, the first). Three or more (junction): drop the way back, then take
    the way with the largest dot product with the direction to Pacman (smallest when fleeing).
    Ties go to the first in the order right, up, left, down. On Pacman's own cell at a junction the
    direction to Pacman is undefined and the ghost keeps its facing (a wall there keeps it in place).
    """
    if len(free) == 1:
        return free[0]
    if len(free) == 2:
        if facing in free:
            return facing
        return free[1] if free[0] == REVERSE[facing] else free[0]
    options = [d for d in free if d != REVERSE[facing]]
    d_row, d_col = to_pacman
    if d_row == 0 and d_col == 0:
        return facing
    if not fleeing and rng is not None and rng.random() < random_turn_probability:
        return options[int(rng.integers(len(options)))]
    # dot products with the unscaled vector to Pacman: same order as with the unit vector
    scores = [DELTAS[d][0] * d_row + DELTAS[d][1] * d_col for d in options]
    best = min(scores) if fleeing else max(scores)
    return options[scores.index(best)]


class MiniPacmanEnv(FrameEnv):
    """``srl/MiniPacman-v0``: MiniPacman as a pixel env with its true state in ``info["state"]``.

    Args:
        mode: one of ``"regular"``, ``"avoid"``, ``"hunt"``, ``"ambush"``, ``"rush"`` (rewards and
            level ends in ``MODES``).
        image_size: observation size, an int (square) or ``(height, width)``, at least 15×19.
        max_steps: the episode is truncated after this many steps.
        max_ghosts: ghost entries in the state; the ghost count stops growing at this number.
        render_mode: ``None`` or ``"rgb_array"`` (``render()`` returns the current observation).

    Info at reset and every step: ``state`` (float32, named by ``state_names``, kinds in
    ``state_kinds``), ``level``, ``food_left``, ``steps_in_level``.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 8}
    # rule constant kept as an attribute so a test can set it to 0 to pin the ghosts' choices
    random_turn_probability: float = 0.05

    def __init__(
        self,
        mode: str = "regular",
        image_size: int | tuple[int, int] = 64,
        max_steps: int = 1000,
        max_ghosts: int = 4,
        render_mode: str | None = None,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {tuple(MODES)}, got {mode!r}")
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        if not isinstance(max_steps, (int, np.integer)) or isinstance(max_steps, bool) or max_steps < 1:
            raise ValueError(f"max_steps must be a positive int, got {max_steps!r}")
        if not isinstance(max_ghosts, (int, np.integer)) or isinstance(max_ghosts, bool) or max_ghosts < 1:
            raise ValueError(f"max_ghosts must be a positive int, got {max_ghosts!r}")
        self.height, self.width = parse_image_size(image_size)
        if self.height < ROWS or self.width < COLS:
            raise ValueError(
                f"MiniPacman needs image_size at least {ROWS}x{COLS} (one pixel per cell), got {image_size!r}"
            )
        self.mode = mode
        self.rules = MODES[mode]
        self.max_steps = int(max_steps)
        self.max_ghosts = int(max_ghosts)
        self.render_mode = render_mode
        self.action_space = spaces.Discrete(5)
        self.observation_space = image_space(self.height, self.width)
        self.state_names: tuple[str, ...] = (
            ("pacman_row", "pacman_col")
            + tuple(f"ghost{i}_{k}" for i in range(self.max_ghosts) for k in ("row", "col"))
            + tuple(f"pill{j}_{k}" for j in range(NUM_PILLS) for k in ("row", "col"))
            + ("ghosts_left", "pills_left", "food_left", "powered", "power_time", "level")
        )
        self.state_kinds: tuple[str, ...] = tuple(self.state_kind(name) for name in self.state_names)
        self._pixel_to_cell = self._pixel_map(self.height, self.width)
        self._background = np.zeros((ROWS * COLS + 1, 3), dtype=np.uint8)  # last entry: the padding
        self._background[:-1][STANDARD_MAZE.ravel()] = WALL_RGB

        # the game; filled by reset()
        self.level = 1
        self.pacman: Cell = FREE_CELLS[0]
        self.ghosts: list[list[int] | None] = []  # slot -> [row, col, facing] or None when absent
        self.pills: list[Cell | None] = []  # slot -> cell or None when eaten
        self.food = np.zeros(ROWS * COLS, dtype=bool)  # flat, row-major
        self.food_left = 0
        self.power_time = 0
        self.steps = 0
        self.steps_in_level = 0
        self._started = False
        self._over = False
        self._frame: np.ndarray | None = None

    @staticmethod
    def state_kind(name: str) -> str:
        """What the metrics do with the state entry ``name``: ``"continuous"`` (regressed: Pacman's
        cell, ``food_left``, ``power_time``), ``"optional"`` (regressed on the frames where it is not
        ``ABSENT``: the ghosts' and pills' cells) or ``"categorical"`` (classified: ``ghosts_left``,
        ``pills_left``, ``powered``, ``level``). ``srl_bench.metrics.state_kinds`` finds it from the
        env id, so datasets recorded without their kinds are read the same way."""
        if name in CONTINUOUS_ENTRIES:
            return "continuous"
        return "optional" if _OPTIONAL_ENTRY.fullmatch(name) else "categorical"

    # -- Gymnasium API ------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Start level 1 of a new episode; returns ``(observation, info)``."""
        super().reset(seed=seed)
        self.steps = 0
        self._started, self._over = True, False
        self._start_level(1)
        return self._observe(), self._info()

    def step(self, action):
        """Play one step (the spec's order); returns ``(obs, reward, terminated, truncated, info)``."""
        if not (type(action) is int and 0 <= action < 5) and not self.action_space.contains(action):
            raise ValueError(
                f"action must be an int in 0..4 ({', '.join(f'{i} {n}' for i, n in enumerate(ACTION_NAMES))}), "
                f"got {action!r}"
            )
        if not self._started:
            raise RuntimeError("call reset() before step()")
        if self._over:
            raise RuntimeError("the episode is over (Pacman died or the step cap was reached); call reset()")
        action = int(action)
        rules = self.rules
        self.steps += 1
        self.steps_in_level += 1
        reward = rules.step

        # 1. the power pill wears off
        if self.power_time > 0:
            self.power_time -= 1

        # 2. Pacman moves and eats what is on his cell
        self.pacman = NEXT_CELL[self.pacman][action]
        flat = self.pacman[0] * COLS + self.pacman[1]
        if self.food[flat]:
            self.food[flat] = False
            self.food_left -= 1
            reward += rules.food
        for slot, pill in enumerate(self.pills):
            if pill == self.pacman:
                self.pills[slot] = None
                self.power_time = PILL_DURATION
                reward += rules.pill
                break
        if self._level_complete():
            self._start_level(self.level + 1)

        # 3. ghosts, one at a time: collide, move, collide
        died = False
        powered = self.power_time > 0
        move_probability = ghost_speed(self.level) * (0.5 if powered else 1.0)
        for slot, ghost in enumerate(self.ghosts):
            if ghost is None:
                continue
            caught = False
            if (ghost[0], ghost[1]) == self.pacman:
                if powered:
                    reward += self._eat_ghost(slot)
                    break
                caught = died = True
                reward += rules.killed
            if self.np_random.random() < move_probability:
                self._move_ghost(ghost, fleeing=powered)
                if (ghost[0], ghost[1]) == self.pacman:
                    if powered:
                        reward += self._eat_ghost(slot)
                        break
                    if not caught:  # each ghost catches Pacman at most once a step
                        died = True
                        reward += rules.killed

        # 4. avoid's level clock (a step that kills Pacman ends the episode instead)
        if not died and rules.level_steps is not None and self.steps_in_level >= rules.level_steps:
            self._start_level(self.level + 1)

        # 5. the step cap
        truncated = self.steps >= self.max_steps
        self._over = died or truncated
        return self._observe(), float(reward), died, truncated, self._info()

    # -- hand-made situations -----------------------------------------------------------------
    def set_board(
        self,
        *,
        pacman: Cell | None = None,
        ghosts: Sequence[tuple[int, int, int]] | None = None,
        pills: Sequence[Cell] | None = None,
        food: str | Iterable[Cell] | np.ndarray | None = None,
        power_time: int | None = None,
        level: int | None = None,
        steps_in_level: int | None = None,
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Put the running episode in a hand-made situation; arguments left ``None`` are kept.

        Args:
            pacman: Pacman's ``(row, col)``, a free cell.
            ghosts: ``(row, col, facing)`` per ghost, facing 1 right, 2 up, 3 left, 4 down; they
                fill slots 0, 1, ... and the other slots are absent. At most ``max_ghosts``.
            pills: at most 2 distinct free cells.
            food: ``"all"``, ``"none"``, an iterable of free cells, or a (15, 19) bool array.
            power_time: remaining power pill time, 0..20.
            level: the level (sets the ghost speed; nothing is respawned).
            steps_in_level: steps since the level began (avoid's 128-step clock).

        Returns ``(observation, info)`` of the new situation. Call after ``reset()``.
        """
        if not self._started:
            raise RuntimeError("call reset() before set_board()")
        if pacman is not None:
            self.pacman = self._free_cell(pacman, "pacman")
        if ghosts is not None:
            if len(ghosts) > self.max_ghosts:
                raise ValueError(f"at most max_ghosts={self.max_ghosts} ghosts, got {len(ghosts)}")
            placed: list[list[int] | None] = []
            for row, col, facing in ghosts:
                r, c = self._free_cell((row, col), "ghost")
                if facing not in DIRECTIONS:
                    raise ValueError(f"ghost facing must be 1 right, 2 up, 3 left or 4 down, got {facing!r}")
                placed.append([r, c, int(facing)])
            self.ghosts = placed + [None] * (self.max_ghosts - len(placed))
        if pills is not None:
            cells = [self._free_cell(p, "pill") for p in pills]
            if len(cells) > NUM_PILLS or len(set(cells)) != len(cells):
                raise ValueError(f"pills must be at most {NUM_PILLS} distinct cells, got {list(pills)!r}")
            self.pills = cells + [None] * (NUM_PILLS - len(cells))
        if food is not None:
            self._set_food(food)
        if power_time is not None:
            if not 0 <= power_time <= PILL_DURATION:
                raise ValueError(f"power_time must be in 0..{PILL_DURATION}, got {power_time!r}")
            self.power_time = int(power_time)
        if level is not None:
            if level < 1:
                raise ValueError(f"level must be >= 1, got {level!r}")
            self.level = int(level)
        if steps_in_level is not None:
            self.steps_in_level = int(steps_in_level)
        return self._observe(), self._info()

    # -- rules --------------------------------------------------------------------------------
    def _start_level(self, level: int) -> None:
        """Refill food and pills, place Pacman and respawn the ghosts for ``level``."""
        rng = self.np_random
        self.level = level
        self.food[:] = ~STANDARD_MAZE.ravel()
        self.food_left = len(FREE_CELLS)
        # distinct cells, so that every pill shows in the picture
        pill_indices = rng.choice(len(FREE_CELLS), size=NUM_PILLS, replace=False)
        self.pills = [FREE_CELLS[int(i)] for i in pill_indices]
        self.pacman = FREE_CELLS[int(rng.integers(len(FREE_CELLS)))]
        spawn_cells = GHOST_SPAWN_CELLS[self.pacman]
        self.ghosts = []
        for _ in range(ghost_count(level, self.max_ghosts)):
            r, c = spawn_cells[int(rng.integers(len(spawn_cells)))]
            self.ghosts.append([r, c, DIRECTIONS[int(rng.integers(4))]])
        self.ghosts += [None] * (self.max_ghosts - len(self.ghosts))
        self.power_time = 0
        self.steps_in_level = 0

    def _level_complete(self) -> bool:
        what = self.rules.level_ends_when_out_of
        if what == "food":
            return self.food_left == 0
        if what == "pills":
            return all(p is None for p in self.pills)
        return all(g is None for g in self.ghosts)

    def _eat_ghost(self, slot: int) -> float:
        """Remove the ghost in ``slot`` for the rest of the level; returns the reward."""
        self.ghosts[slot] = None
        if self._level_complete():
            self._start_level(self.level + 1)
        return self.rules.eat_ghost

    def _move_ghost(self, ghost: list[int], fleeing: bool) -> None:
        cell = (ghost[0], ghost[1])
        to_pacman = (self.pacman[0] - cell[0], self.pacman[1] - cell[1])
        facing = ghost_direction(
            FREE_DIRECTIONS[cell], ghost[2], to_pacman, fleeing, self.np_random, self.random_turn_probability
        )
        ghost[0], ghost[1] = NEXT_CELL[cell][facing]
        ghost[2] = facing

    # -- observation and state ----------------------------------------------------------------
    @staticmethod
    def _pixel_map(height: int, width: int) -> np.ndarray:
        """For each pixel, the flat index of its cell, or ``ROWS * COLS`` (black) for padding."""
        row_scale, col_scale = height // ROWS, width // COLS
        top, left = (height - ROWS * row_scale) // 2, (width - COLS * col_scale) // 2
        pixel_rows = (np.arange(height) - top) // row_scale
        pixel_cols = (np.arange(width) - left) // col_scale
        inside = ((pixel_rows >= 0) & (pixel_rows < ROWS))[:, None] & ((pixel_cols >= 0) & (pixel_cols < COLS))[None, :]
        return np.where(inside, pixel_rows[:, None] * COLS + pixel_cols[None, :], ROWS * COLS).astype(np.intp)

    def board_rgb(self) -> np.ndarray:
        """The native 15×19 picture (uint8 RGB), before scaling."""
        return self._cell_colours()[:-1].reshape(ROWS, COLS, 3)

    def _cell_colours(self) -> np.ndarray:
        colours = self._background.copy()
        colours[:-1][self.food] = FOOD_RGB
        for pill in self.pills:
            if pill is not None:
                colours[pill[0] * COLS + pill[1]] = PILL_RGB
        edible = self.power_time / PILL_DURATION
        ghost_rgb = (255, int(round(255 * edible)), 0)  # (g + e, e, 0) with g = 1 − e
        for ghost in self.ghosts:
            if ghost is not None:
                colours[ghost[0] * COLS + ghost[1]] = ghost_rgb
        colours[self.pacman[0] * COLS + self.pacman[1]] = PACMAN_RGB
        return colours

    def _draw_frame(self) -> np.ndarray:
        return np.take(self._cell_colours(), self._pixel_to_cell, axis=0)

    def _true_state(self) -> np.ndarray:
        ghosts = sorted((ghost[0], ghost[1]) for ghost in self.ghosts if ghost is not None)  # reading order
        pills = sorted(pill for pill in self.pills if pill is not None)
        values: list[float] = [self.pacman[0], self.pacman[1]]
        for k in range(self.max_ghosts):
            values += ghosts[k] if k < len(ghosts) else (ABSENT, ABSENT)
        for k in range(NUM_PILLS):
            values += pills[k] if k < len(pills) else (ABSENT, ABSENT)
        values += (len(ghosts), len(pills), self.food_left, 1.0 if self.power_time > 0 else 0.0,
                   self.power_time, self.level)
        return np.asarray(values, dtype=np.float32)

    def occupancy(self) -> dict[str, np.ndarray]:
        """The board as one (15, 19) map per entity type: ``pacman``, ``ghosts``, ``pills`` and
        ``food`` (bool; ``ghosts`` counts the ghosts on each cell, as uint8, since they may share one)."""
        pacman = np.zeros((ROWS, COLS), dtype=bool)
        pacman[self.pacman] = True
        ghosts = np.zeros((ROWS, COLS), dtype=np.uint8)
        for ghost in self.ghosts:
            if ghost is not None:
                ghosts[ghost[0], ghost[1]] += 1
        pills = np.zeros((ROWS, COLS), dtype=bool)
        for pill in self.pills:
            if pill is not None:
                pills[pill] = True
        return {"pacman": pacman, "ghosts": ghosts, "pills": pills, "food": self.food.reshape(ROWS, COLS).copy()}

    def _info(self) -> dict[str, Any]:
        return {
            "state": self._true_state(),
            "level": self.level,
            "food_left": self.food_left,
            "steps_in_level": self.steps_in_level,
        }

    # -- argument checks ----------------------------------------------------------------------
    @staticmethod
    def _free_cell(cell: Sequence[int], what: str) -> Cell:
        r, c = (int(v) for v in cell)
        if not (0 <= r < ROWS and 0 <= c < COLS) or STANDARD_MAZE[r, c]:
            raise ValueError(f"{what} must be on a free cell of the {ROWS}x{COLS} maze, got {tuple(cell)!r}")
        return r, c

    def _set_food(self, food: str | Iterable[Cell] | np.ndarray) -> None:
        if isinstance(food, str):
            if food not in ("all", "none"):
                raise ValueError(f"food must be 'all', 'none', cells or a bool array, got {food!r}")
            grid = ~STANDARD_MAZE if food == "all" else np.zeros_like(STANDARD_MAZE)
        elif isinstance(food, np.ndarray):
            if food.shape != STANDARD_MAZE.shape:
                raise ValueError(f"a food array must have shape {STANDARD_MAZE.shape}, got {food.shape}")
            grid = food.astype(bool)
            if (grid & STANDARD_MAZE).any():
                raise ValueError("food must lie on free cells only")
        else:
            grid = np.zeros_like(STANDARD_MAZE)
            for cell in food:
                grid[self._free_cell(cell, "food")] = True
        self.food[:] = grid.ravel()
        self.food_left = int(grid.sum())


def shortest_paths(start: Cell) -> dict[Cell, tuple[int, int]]:
    """For every free cell: ``(steps, first action)`` of a shortest path from ``start`` to it
    (breadth-first, directions tried in the order right, up, left, down; ``(0, STAY)`` for ``start``)."""
    paths = {start: (0, STAY)}
    frontier = [start]
    while frontier:
        following = []
        for cell in frontier:
            steps, first = paths[cell]
            for direction in FREE_DIRECTIONS[cell]:
                step = NEXT_CELL[cell][direction]
                if step not in paths:
                    paths[step] = (steps + 1, direction if cell == start else first)
                    following.append(step)
        frontier = following
    return paths


class SeekPillsPolicy:
    """Heads for the nearest power pill, hunts the nearest ghost while powered, and otherwise walks at
    random, with a uniformly random action with probability ``epsilon`` (collection policy
    ``pacman_seek``).

    A random walk seldom eats a pill (in 400 random episodes of 50 steps, 39 did), so its datasets
    hardly vary in ``pills_left``, ``powered``, ``power_time`` or ``ghosts_left``; this policy's do.
    Paths are shortest paths on the maze (:func:`shortest_paths`; ties go to the target first in
    reading order). It reads only ``info["state"]`` (by the env's ``state_names``) and draws from its
    own seeded generator.

    Args:
        env: the MiniPacman env (or a wrapper of it).
        seed: seed of the policy's own random generator.
        epsilon: probability of a random action at each step.
    """

    def __init__(self, env: gym.Env, seed: int | None = None, epsilon: float = 0.25) -> None:
        if not 0.0 <= epsilon <= 1.0:
            raise ValueError(f"epsilon must be in [0, 1], got {epsilon!r}")
        names = list(env.unwrapped.state_names)
        self.epsilon = float(epsilon)
        self.rng = np.random.default_rng(seed)
        self._pacman = (names.index("pacman_row"), names.index("pacman_col"))
        self._powered = names.index("powered")
        entries = lambda kind: [(names.index(f"{kind}{k}_row"), names.index(f"{kind}{k}_col"))  # noqa: E731
                                for k in range(sum(n.startswith(kind) and n.endswith("_row") for n in names))]
        self._ghosts, self._pills = entries("ghost"), entries("pill")

    def __call__(self, observation: np.ndarray, info: dict[str, Any]) -> int:
        """The action for this step, from ``info["state"]``."""
        if self.rng.random() < self.epsilon:
            return int(self.rng.integers(5))
        state = info["state"]

        def cells(entries: list[tuple[int, int]]) -> list[Cell]:
            return [(int(state[r]), int(state[c])) for r, c in entries if state[r] != ABSENT]

        ghosts = cells(self._ghosts)
        targets = ghosts if state[self._powered] > 0 and ghosts else cells(self._pills)
        pacman = (int(state[self._pacman[0]]), int(state[self._pacman[1]]))
        if not targets:
            return int(self.rng.integers(5))
        paths = shortest_paths(pacman)
        return paths[min(targets, key=lambda cell: (paths[cell][0], cell))][1]
