"""MiniPacman: the rules of docs/minipacman.md, pinned with hand-made situations."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import srl_bench  # noqa: F401  (registers the srl/ ids)
from srl_bench.envs.minipacman import (
    DOWN,
    FREE_CELLS,
    LEFT,
    MODES,
    RIGHT,
    STAY,
    UP,
    MiniPacmanEnv,
    SeekPillsPolicy,
    ghost_count,
    ghost_direction,
    ghost_speed,
    shortest_paths,
)

ALL_MODES = tuple(MODES)
# far from the top-left cells most tests play in; the lone food and pill keep levels from ending
FAR_GHOST, FAR_FOOD, FAR_PILL = (13, 17, LEFT), (13, 9), (13, 7)
RED, YELLOW = (255, 0, 0), (255, 255, 0)


def make(mode: str = "regular", **board) -> MiniPacmanEnv:
    """An env in a hand-made situation: one far food, pill and ghost unless given; no random ghost turns."""
    env = MiniPacmanEnv(mode=mode)
    env.reset(seed=0)
    env.random_turn_probability = 0.0
    situation = dict(food=[FAR_FOOD], pills=[FAR_PILL], ghosts=[FAR_GHOST], power_time=0, level=1, steps_in_level=0)
    situation.update(board)
    env.set_board(**situation)
    return env


def value(env: MiniPacmanEnv, info: dict, name: str) -> float:
    return float(info["state"][env.state_names.index(name)])


def pacman(env: MiniPacmanEnv, info: dict) -> tuple[int, int]:
    return int(value(env, info, "pacman_row")), int(value(env, info, "pacman_col"))


def ghost(env: MiniPacmanEnv, info: dict, slot: int = 0) -> tuple[int, int]:
    return int(value(env, info, f"ghost{slot}_row")), int(value(env, info, f"ghost{slot}_col"))


def ghosts_present(env: MiniPacmanEnv, info: dict) -> int:
    return sum(value(env, info, f"ghost{i}_row") >= 0 for i in range(env.max_ghosts))


def cell_block(env: MiniPacmanEnv, obs: np.ndarray, row: int, col: int) -> np.ndarray:
    """The pixels of one cell in a 64×64 observation (4 rows × 3 columns, board offset (2, 3))."""
    return obs[2 + 4 * row : 6 + 4 * row, 3 + 3 * col : 6 + 3 * col].reshape(-1, 3)


# -- moving and eating ---------------------------------------------------------------------------
def test_actions_move_and_walls_block():
    env = make(pacman=(3, 3))
    for action, target in [(RIGHT, (3, 4)), (LEFT, (3, 3)), (UP, (2, 3)), (DOWN, (3, 3)), (DOWN, (4, 3))]:
        _, _, _, _, info = env.step(action)
        assert pacman(env, info) == target
    env.set_board(pacman=(1, 1))
    for action in (UP, LEFT, STAY):  # walls above and to the left
        _, _, _, _, info = env.step(action)
        assert pacman(env, info) == (1, 1)


@pytest.mark.parametrize("mode", ALL_MODES)
def test_food_and_pill_rewards(mode):
    rules = MODES[mode]
    env = make(mode, pacman=(1, 1), food=[(1, 2), (1, 3), (5, 5)], pills=[(1, 3), (13, 1)])
    _, reward, *_ = env.step(RIGHT)
    assert reward == pytest.approx(rules.step + rules.food)
    _, reward, _, _, info = env.step(RIGHT)
    assert reward == pytest.approx(rules.step + rules.food + rules.pill)
    assert info["food_left"] == 1 and value(env, info, "power_time") == 20
    # the pill left is listed first; the entries past the count read -1
    assert value(env, info, "pill0_row") == 13 and value(env, info, "pill1_row") == -1
    assert value(env, info, "pills_left") == 1
    _, reward, *_ = env.step(LEFT)  # nothing left on (1, 2)
    assert reward == pytest.approx(rules.step)


def test_staying_eats_what_is_under_pacman():
    env = make(pacman=(1, 1), food=[(1, 1), (5, 5)])
    _, reward, _, _, info = env.step(STAY)
    assert reward == 1 and info["food_left"] == 1


def test_pill_makes_ghosts_edible_for_20_steps_and_recolours_them():
    env = make(pacman=(1, 1), pills=[(1, 2)])
    obs, _, _, _, info = env.step(RIGHT)
    assert value(env, info, "powered") == 1 and value(env, info, "power_time") == 20
    gr, gc = ghost(env, info)
    assert (cell_block(env, obs, gr, gc) == YELLOW).all()
    for k in range(1, 21):
        obs, _, terminated, _, info = env.step(STAY)
        assert not terminated
        gr, gc = ghost(env, info)
        power = 20 - k
        assert value(env, info, "power_time") == power
        assert value(env, info, "powered") == (1 if k < 20 else 0)
        assert tuple(env.board_rgb()[gr, gc]) == (255, round(255 * power / 20), 0)
    assert (cell_block(env, obs, gr, gc) == RED).all()


def test_picture_colours_and_priority():
    env = make(pacman=(1, 1), ghosts=[(1, 2, RIGHT)], pills=[(1, 2), (3, 3)], food=[(1, 2), (3, 3), (5, 5)])
    board = env.board_rgb()
    assert tuple(board[1, 1]) == (0, 255, 0)  # pacman
    assert tuple(board[1, 2]) == RED  # ghost over pill and food
    assert tuple(board[3, 3]) == (0, 255, 255)  # pill over food
    assert tuple(board[5, 5]) == (0, 0, 255)  # food
    assert tuple(board[0, 0]) == (255, 255, 255) and tuple(board[1, 3]) == (0, 0, 0)


# -- ghosts and Pacman meeting -------------------------------------------------------------------
@pytest.mark.parametrize("mode", ALL_MODES)
def test_pacman_eats_a_ghost_he_walks_into_and_the_rest_wait(mode):
    env = make(mode, pacman=(1, 1), ghosts=[(1, 2, RIGHT), FAR_GHOST], power_time=10)
    obs, reward, terminated, _, info = env.step(RIGHT)
    assert not terminated and info["level"] == 1
    assert reward == pytest.approx(MODES[mode].step + MODES[mode].eat_ghost)
    # the ghost left moves up to the first entry; no further ghost is processed after a meal
    assert ghost(env, info, 0) == FAR_GHOST[:2] and ghost(env, info, 1) == (-1, -1)
    assert value(env, info, "ghosts_left") == 1
    assert (cell_block(env, obs, 1, 2) == (0, 255, 0)).all()


def test_a_ghost_running_into_powered_pacman_is_eaten():
    # level 16: speed 2.0, halved to 1.0 by the pill, so the ghost surely moves
    env = make(pacman=(1, 3), ghosts=[(1, 2, RIGHT)], power_time=10, level=16)
    _, reward, terminated, _, info = env.step(STAY)
    assert not terminated and reward == 5 and ghosts_present(env, info) == 0


@pytest.mark.parametrize("mode", ALL_MODES)
def test_a_ghost_catching_pacman_kills_him(mode):
    env = make(mode, pacman=(1, 3), ghosts=[(1, 2, RIGHT)], level=6)  # speed 1.0
    _, reward, terminated, truncated, info = env.step(STAY)
    assert terminated and not truncated and ghost(env, info) == (1, 3)
    assert reward == pytest.approx(MODES[mode].step + MODES[mode].killed)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(STAY)


def test_walking_into_a_ghost_kills_and_each_catching_ghost_costs():
    env = make("avoid", pacman=(1, 1), ghosts=[(1, 2, RIGHT)])
    _, _, terminated, _, _ = env.step(RIGHT)
    assert terminated
    # two ghosts reach Pacman on (1, 3) in the same step: the death reward counts twice
    env = make("avoid", pacman=(1, 3), ghosts=[(1, 2, RIGHT), (2, 3, UP)], level=6)
    _, reward, terminated, _, _ = env.step(STAY)
    assert terminated and reward == pytest.approx(0.1 - 40)
    # one ghost catches once: on Pacman's junction cell (3, 1), facing the wall, it stays put
    env = make("avoid", pacman=(3, 1), ghosts=[(3, 1, LEFT)], level=6)
    _, reward, terminated, _, info = env.step(STAY)
    assert terminated and ghost(env, info) == (3, 1) and reward == pytest.approx(0.1 - 20)


# -- level ends ----------------------------------------------------------------------------------
def assert_new_level(env: MiniPacmanEnv, info: dict, level: int) -> None:
    assert info["level"] == level == value(env, info, "level")
    assert info["food_left"] == len(FREE_CELLS) and info["steps_in_level"] == 0
    assert value(env, info, "power_time") == 0
    assert value(env, info, "pill0_row") >= 0 and value(env, info, "pill1_row") >= 0
    assert ghosts_present(env, info) == ghost_count(level, env.max_ghosts)


@pytest.mark.parametrize("mode", ["regular", "avoid"])
def test_eating_the_last_food_starts_the_next_level(mode):
    env = make(mode, pacman=(1, 1), food=[(1, 2)], pills=[(5, 5)])
    _, reward, terminated, _, info = env.step(RIGHT)
    assert not terminated and reward == pytest.approx(MODES[mode].step + MODES[mode].food)
    assert_new_level(env, info, 2)


@pytest.mark.parametrize("mode", ["hunt", "ambush", "rush"])
def test_eating_all_food_does_not_end_the_level_in(mode):
    env = make(mode, pacman=(1, 1), food=[(1, 2)], pills=[(5, 5)])
    *_, info = env.step(RIGHT)
    assert info["level"] == 1 and info["food_left"] == 0


def test_avoid_level_ends_after_128_steps():
    env = make("avoid", pacman=(1, 1), food="all", steps_in_level=126)
    *_, info = env.step(STAY)
    assert info["level"] == 1 and info["steps_in_level"] == 127
    _, reward, terminated, _, info = env.step(STAY)
    assert not terminated and reward == pytest.approx(0.1)
    assert_new_level(env, info, 2)
    env = make("regular", pacman=(1, 1), food="all", steps_in_level=500)
    *_, info = env.step(STAY)
    assert info["level"] == 1


def test_avoid_death_on_the_128th_step_ends_the_episode_not_the_level():
    env = make("avoid", pacman=(1, 3), ghosts=[(1, 2, RIGHT)], level=6, steps_in_level=127)
    _, _, terminated, _, info = env.step(STAY)
    assert terminated and info["level"] == 6 and pacman(env, info) == ghost(env, info) == (1, 3)


@pytest.mark.parametrize("mode", ["hunt", "ambush"])
def test_eating_the_last_ghost_starts_the_next_level(mode):
    env = make(mode, pacman=(1, 1), ghosts=[(1, 2, RIGHT), FAR_GHOST], power_time=10)
    *_, info = env.step(RIGHT)
    assert info["level"] == 1 and ghosts_present(env, info) == 1
    env.set_board(pacman=(1, 1), ghosts=[(1, 2, RIGHT)], power_time=10)
    _, reward, _, _, info = env.step(RIGHT)
    assert reward == 10
    assert_new_level(env, info, 2)


def test_eating_the_last_pill_starts_the_next_level_in_rush():
    env = make("rush", pacman=(1, 1), pills=[(1, 2), (1, 3)])
    _, reward, _, _, info = env.step(RIGHT)
    assert info["level"] == 1 and reward == 10
    _, reward, _, _, info = env.step(RIGHT)
    assert reward == 10
    assert_new_level(env, info, 2)
    env = make("regular", pacman=(1, 1), pills=[(1, 2)])
    *_, info = env.step(RIGHT)
    assert info["level"] == 1


def test_ghost_count_speed_and_spawn_distance_by_level():
    assert [ghost_count(level) for level in range(1, 12)] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6]
    assert [ghost_count(level, max_ghosts=4) for level in range(7, 12)] == [4] * 5
    assert [ghost_speed(level) for level in (1, 2, 6)] == pytest.approx([0.5, 0.6, 1.0])
    # avoid's clock starts the next level after the ghosts have moved: what we see is the spawn
    env = make("avoid", pacman=(1, 1), food="all", steps_in_level=127)
    for level in range(2, 13):
        *_, info = env.step(STAY)
        assert_new_level(env, info, level)
        r, c = pacman(env, info)
        for slot in range(ghosts_present(env, info)):
            gr, gc = ghost(env, info, slot)
            assert not (r - 5 <= gr <= r + 4 and c - 5 <= gc <= c + 4)
        env.set_board(pacman=(1, 1), ghosts=[FAR_GHOST], steps_in_level=127)


@pytest.mark.parametrize(("level", "power_time", "probability"), [(1, 0, 0.5), (3, 0, 0.7), (3, 10, 0.35)])
def test_ghosts_move_with_the_level_speed_halved_by_a_pill(level, power_time, probability):
    env = make(pacman=(13, 1))
    moves, trials = 0, 600
    for _ in range(trials):
        env.set_board(ghosts=[(1, 2, RIGHT)], level=level, power_time=power_time)
        *_, info = env.step(STAY)
        moves += ghost(env, info) != (1, 2)
    assert moves / trials == pytest.approx(probability, abs=0.07)


# -- ghost movement ------------------------------------------------------------------------------
def test_ghost_takes_the_only_way_out_of_a_dead_end():
    # the standard maze has no dead end, so the rule is pinned on the direction function itself
    for facing in (RIGHT, UP, LEFT, DOWN):
        assert ghost_direction((UP,), facing, (5, 0), fleeing=False) == UP
        assert ghost_direction((LEFT,), facing, (0, 5), fleeing=True) == LEFT


def test_ghost_in_a_corridor_keeps_going_or_turns_the_corner():
    env = make(pacman=(13, 1), level=6)  # speed 1.0: the ghost surely moves
    # straight corridor, Pacman behind: the ghost does not turn back
    env.set_board(pacman=(1, 1), ghosts=[(1, 2, RIGHT)])
    *_, info = env.step(STAY)
    assert ghost(env, info) == (1, 3)
    # corner (1, 1) (free: right, down): blocked facing turns the way that is not back
    env.set_board(pacman=(13, 1), ghosts=[(1, 1, LEFT)])
    *_, info = env.step(STAY)
    assert ghost(env, info) == (2, 1)
    env.set_board(ghosts=[(1, 1, UP)])
    *_, info = env.step(STAY)
    assert ghost(env, info) == (1, 2)
    # neither free way is back: the first in the order right, up, left, down
    assert ghost_direction((UP, DOWN), RIGHT, (0, 0), fleeing=False) == UP


def test_ghost_at_a_junction_chases_pacman():
    env = make(pacman=(5, 3), ghosts=[(3, 3, RIGHT)], level=6)  # (3, 3) is a 4-way junction
    *_, info = env.step(STAY)
    assert ghost(env, info) == (4, 3)  # down, towards Pacman
    # the way back is dropped even when it leads to Pacman; the tie right/left goes to right
    env.set_board(pacman=(1, 3), ghosts=[(3, 3, DOWN)])
    *_, info = env.step(STAY)
    assert ghost(env, info) == (3, 4)
    env.set_board(pacman=(3, 1), ghosts=[(3, 3, DOWN)])
    *_, info = env.step(STAY)
    assert ghost(env, info) == (3, 2)


def test_ghost_at_a_junction_flees_powered_pacman():
    # level 16: speed 2.0 halved to 1.0, the ghost surely moves
    env = make(pacman=(5, 3), ghosts=[(3, 3, RIGHT)], level=16, power_time=10)
    *_, info = env.step(STAY)
    assert ghost(env, info) == (2, 3)  # up, away from Pacman
    env.set_board(pacman=(3, 1), ghosts=[(3, 3, UP)], power_time=10)
    *_, info = env.step(STAY)
    assert ghost(env, info) == (3, 4)


def test_ghost_on_pacmans_cell_keeps_its_facing():
    assert ghost_direction((RIGHT, UP, LEFT, DOWN), DOWN, (0, 0), fleeing=False) == DOWN


def test_chasing_ghost_sometimes_turns_at_random():
    rng = np.random.default_rng(0)
    free, to_pacman = (RIGHT, UP, LEFT, DOWN), (3, 0)  # facing right: options right, up, down; best down
    picks = [ghost_direction(free, RIGHT, to_pacman, False, rng, 0.05) for _ in range(4000)]
    off_course = sum(p != DOWN for p in picks) / len(picks)
    assert off_course == pytest.approx(0.05 * 2 / 3, abs=0.015)
    assert LEFT not in picks  # never back
    picks = [ghost_direction(free, RIGHT, to_pacman, True, rng, 1.0) for _ in range(200)]
    assert set(picks) == {UP}  # no random turns while fleeing


# -- API -----------------------------------------------------------------------------------------
def test_invalid_mode_action_and_image_size():
    with pytest.raises(ValueError, match="regular.*avoid.*hunt.*ambush.*rush"):
        MiniPacmanEnv(mode="chase")
    with pytest.raises(ValueError, match="15x19"):
        MiniPacmanEnv(image_size=(14, 64))
    env = MiniPacmanEnv()
    env.reset(seed=0)
    for bad in (5, -1, 1.0, "up", np.array([1]), None):
        with pytest.raises(ValueError, match="action must be an int in 0..4"):
            env.step(bad)
    env.step(np.int64(1))
    env.step(np.array(2))


def test_set_board_rejects_walls_and_bad_counts():
    env = make()
    with pytest.raises(ValueError, match="free cell"):
        env.set_board(pacman=(0, 0))
    with pytest.raises(ValueError, match="at most max_ghosts=4"):
        env.set_board(ghosts=[FAR_GHOST] * 5)
    with pytest.raises(ValueError, match="distinct"):
        env.set_board(pills=[(1, 1), (1, 1)])


def test_state_layout_and_absent_fill():
    env = MiniPacmanEnv(max_ghosts=3)
    obs, info = env.reset(seed=3)
    state = info["state"]
    assert state.dtype == np.float32 and state.shape == (len(env.state_names),) == (2 + 2 * 3 + 4 + 6,)
    assert env.state_names[:4] == ("pacman_row", "pacman_col", "ghost0_row", "ghost0_col")
    assert env.state_names[-6:] == ("ghosts_left", "pills_left", "food_left", "powered", "power_time", "level")
    assert (state[4:8] == -1).all()  # level 1 has one ghost; the entries of ghosts 1 and 2 read -1
    assert value(env, info, "ghosts_left") == 1 and value(env, info, "pills_left") == 2
    assert value(env, info, "food_left") == len(FREE_CELLS) and value(env, info, "level") == 1
    assert obs.shape == (64, 64, 3) and obs.dtype == np.uint8


def test_state_kinds_name_what_the_metrics_regress_and_classify():
    env = MiniPacmanEnv(max_ghosts=2)
    kinds = dict(zip(env.state_names, env.state_kinds))
    assert [n for n, k in kinds.items() if k == "continuous"] == ["pacman_row", "pacman_col", "food_left", "power_time"]
    assert [n for n, k in kinds.items() if k == "optional"] == [
        "ghost0_row", "ghost0_col", "ghost1_row", "ghost1_col", "pill0_row", "pill0_col", "pill1_row", "pill1_col"]
    assert [n for n, k in kinds.items() if k == "categorical"] == ["ghosts_left", "pills_left", "powered", "level"]
    assert MiniPacmanEnv.state_kind("ghost7_col") == "optional"  # also the names of a larger max_ghosts
    from srl_bench.metrics import ABSENT
    from srl_bench.envs.minipacman import ABSENT as ENV_ABSENT
    assert ABSENT == ENV_ABSENT  # the metrics read an optional entry as absent where the env says so


def test_ghosts_and_pills_are_listed_in_reading_order_whatever_their_spawn_order():
    # the same board, ghosts given in two orders: the state (a function of the picture) is the same
    first = make(pacman=(1, 1), ghosts=[(13, 17, LEFT), (5, 9, RIGHT), (5, 3, UP)], pills=[(13, 1), (3, 3)])
    second = make(pacman=(1, 1), ghosts=[(5, 3, UP), (13, 17, LEFT), (5, 9, RIGHT)], pills=[(3, 3), (13, 1)])
    state_a, state_b = first._info()["state"], second._info()["state"]
    np.testing.assert_array_equal(state_a, state_b)
    info = first._info()
    assert [ghost(first, info, k) for k in range(4)] == [(5, 3), (5, 9), (13, 17), (-1, -1)]
    assert [value(first, info, f"pill{k}_row") for k in range(2)] == [3, 13]
    assert value(first, info, "ghosts_left") == 3


def test_occupancy_maps_match_the_board():
    env = make(pacman=(1, 1), ghosts=[(5, 3, UP), (5, 3, LEFT)], pills=[(3, 3)], food=[(1, 2), (3, 3)])
    maps = env.occupancy()
    assert {k: v.shape for k, v in maps.items()} == {k: (15, 19) for k in ("pacman", "ghosts", "pills", "food")}
    assert maps["pacman"].sum() == 1 and maps["pacman"][1, 1]
    assert maps["ghosts"][5, 3] == 2 and maps["ghosts"].sum() == 2  # two ghosts may share a cell
    assert maps["pills"].sum() == 1 and maps["pills"][3, 3]
    assert maps["food"].sum() == 2 and maps["food"][1, 2] and maps["food"][3, 3]


def test_image_is_the_board_scaled_by_whole_factors():
    env = MiniPacmanEnv(image_size=(60, 76))
    obs, _ = env.reset(seed=1)
    assert (obs == env.board_rgb().repeat(4, axis=0).repeat(4, axis=1)).all()
    env = MiniPacmanEnv()
    obs, _ = env.reset(seed=1)
    assert (obs[2:62, 3:60] == env.board_rgb().repeat(4, axis=0).repeat(3, axis=1)).all()
    assert not obs[:2].any() and not obs[62:].any() and not obs[:, :3].any() and not obs[:, 60:].any()


def test_render_returns_the_observation():
    env = MiniPacmanEnv(render_mode="rgb_array")
    obs, _ = env.reset(seed=2)
    assert (env.render() == obs).all()
    obs, *_ = env.step(RIGHT)
    assert (env.render() == obs).all()


def test_truncation_at_the_step_cap():
    env = MiniPacmanEnv(max_steps=5)
    env.reset(seed=0)
    env.set_board(ghosts=[], food="all")
    results = [env.step(STAY)[2:4] for _ in range(5)]
    assert results == [(False, False)] * 4 + [(False, True)]
    with pytest.raises(RuntimeError, match="reset"):
        env.step(STAY)


def play(seed: int, steps: int = 400, mode: str = "regular"):
    env = gym.make("srl/MiniPacman-v0", mode=mode)
    actions = np.random.default_rng(123).integers(5, size=steps)
    obs, info = env.reset(seed=seed)
    trace = [(obs, info["state"], 0.0)]
    for action in actions:
        obs, reward, terminated, truncated, info = env.step(int(action))
        trace.append((obs, info["state"], reward))
        if terminated or truncated:
            obs, info = env.reset()
            trace.append((obs, info["state"], 0.0))
    return trace


@pytest.mark.parametrize("mode", ["regular", "hunt"])
def test_same_seed_same_episode(mode):
    first, second, other = play(7, mode=mode), play(7, mode=mode), play(8, mode=mode)
    assert len(first) == len(second)
    for (o1, s1, r1), (o2, s2, r2) in zip(first, second):
        assert (o1 == o2).all() and (s1 == s2).all() and r1 == r2
    assert any((s1 != s3).any() for (_, s1, _), (_, s3, _) in zip(first, other))


@pytest.mark.parametrize("mode", ALL_MODES)
def test_check_env(mode):
    env = gym.make("srl/MiniPacman-v0", mode=mode)
    check_env(env.unwrapped)
    assert env.unwrapped.max_steps == 1000


# -- the pill-seeking collection policy ----------------------------------------------------------
def test_shortest_paths_on_the_maze():
    paths = shortest_paths((1, 1))
    assert len(paths) == len(FREE_CELLS) and paths[(1, 1)] == (0, STAY)
    assert paths[(1, 2)] == (1, RIGHT) and paths[(2, 1)] == (1, DOWN)
    assert paths[(1, 5)][0] == 8  # (1, 4) is a wall: down to row 3, along, and back up


def test_seek_policy_heads_for_pills_then_hunts_ghosts():
    env = make(pacman=(3, 5), pills=[(3, 9), (13, 1)], ghosts=[(1, 5, LEFT)])
    policy = SeekPillsPolicy(env, seed=0, epsilon=0.0)
    info = env._info()
    assert policy(None, info) == RIGHT  # the nearer pill, along row 3
    _, info = env.set_board(power_time=10)
    assert policy(None, info) == UP  # powered: the ghost two cells up
    _, info = env.set_board(pills=[], ghosts=[], power_time=0)
    assert policy(None, info) in range(5)  # nothing to seek: a random move


def test_seek_policy_datasets_eat_pills_and_ghosts():
    env = gym.make("srl/MiniPacman-v0")
    eaten_pills = eaten_ghosts = 0
    names = env.unwrapped.state_names
    for seed in range(5):
        policy = SeekPillsPolicy(env, seed=seed)
        observation, info = env.reset(seed=seed)
        for _ in range(50):
            observation, _, terminated, truncated, info = env.step(policy(observation, info))
            if terminated or truncated:
                break
        eaten_pills += 2 - int(info["state"][names.index("pills_left")])
        eaten_ghosts += int(info["state"][names.index("ghosts_left")] == 0)
    assert eaten_pills >= 5 and eaten_ghosts >= 1
    first = [SeekPillsPolicy(env, seed=3)(None, info) for _ in range(3)]
    assert first == [SeekPillsPolicy(env, seed=3)(None, info) for _ in range(3)]  # seeded
