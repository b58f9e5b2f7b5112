"""The one config system: YAML numbers as people write them, --set parsing, the merge, typed errors."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from srl_bench.config import merge, parse_assignments, parse_value, read_yaml_mapping, shipped_names, validate
from srl_bench.errors import SrlBenchError
from srl_bench.methods import MethodConfig, get_method

KEYS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)
LEAVES = st.one_of(st.integers(), st.floats(allow_nan=False), st.booleans(), st.text(max_size=5), st.none())
MAPPINGS = st.recursive(st.dictionaries(KEYS, LEAVES, max_size=4),
                        lambda children: st.dictionaries(KEYS, children, max_size=4), max_leaves=12)


@pytest.mark.parametrize("text, value", [
    ("3e-4", 3e-4), ("1e6", 1e6), ("1E6", 1e6), ("-2.5e-3", -2.5e-3), (".5", 0.5), ("1.", 1.0), ("10", 10),
    ("1_000", 1000), ("true", True), ("null", None), ("[64, 64]", [64, 64]), ("abc", "abc"), ("lin_1e-3", "lin_1e-3"),
])
def test_numbers_parse_the_way_people_write_them(text: str, value) -> None:
    parsed = parse_value(text)
    assert parsed == value and type(parsed) is type(value)


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_any_float_round_trips(number: float) -> None:
    for text in (repr(number), f"{number:e}", f"{number:.3e}"):
        parsed = parse_value(text)
        assert isinstance(parsed, float) and math.isclose(parsed, float(text), rel_tol=0, abs_tol=0)


@settings(max_examples=100, deadline=None)
@given(st.integers())
def test_any_int_round_trips(number: int) -> None:
    assert parse_value(str(number)) == number and isinstance(parse_value(str(number)), int)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.lists(KEYS, min_size=1, max_size=3).map(".".join),
                       st.integers(min_value=-10**6, max_value=10**6), min_size=1, max_size=5))
def test_dotted_assignments_nest(pairs: dict[str, int]) -> None:
    # keep only keys that are not a prefix of another (a key cannot be both a value and a mapping)
    keys = [k for k in pairs if not any(other != k and other.startswith(k + ".") for other in pairs)]
    nested = parse_assignments([f"{k}={pairs[k]}" for k in keys])
    for key in keys:
        node = nested
        for part in key.split("."):
            node = node[part]
        assert node == pairs[key]


@pytest.mark.parametrize("pair", ["lr", "=3", ".x=1", "a..b=1", "a.=1"])
def test_malformed_assignments_are_one_sentence(pair: str) -> None:
    with pytest.raises(SrlBenchError, match="expects KEY=VALUE"):
        parse_assignments([pair])


def test_a_key_set_to_a_value_and_a_mapping_is_refused() -> None:
    with pytest.raises(SrlBenchError, match="both to a value and to a mapping"):
        parse_assignments(["losses=1", "losses.kl=2"])


@settings(max_examples=150, deadline=None)
@given(MAPPINGS, MAPPINGS)
def test_merge_laws(base: dict, update: dict) -> None:
    before = repr(base), repr(update)
    merged = merge(base, update)
    assert (repr(base), repr(update)) == before  # inputs untouched
    assert merge(base) == base and merge({}, update) == update
    for key, value in update.items():
        if not (isinstance(value, dict) and isinstance(base.get(key), dict)):
            assert merged[key] == value
    for key in set(base) - set(update):
        assert merged[key] == base[key]
    assert merge(merged, update) == merged  # applying the same update again changes nothing


@pytest.mark.parametrize("overrides, message", [
    ({"lr": -1}, "key 'lr': input should be greater than 0"),
    ({"lr": float("nan")}, "key 'lr': input should be a finite number"),
    ({"lr": "abc"}, "key 'lr': input should be a valid number"),
    ({"batch_size": 0}, "key 'batch_size': input should be greater than 0"),
    ({"batch_size": -4}, "key 'batch_size'"),
    ({"epochs": -1}, "key 'epochs': input should be greater than or equal to 0"),
    ({"val_fraction": 0}, "key 'val_fraction': input should be greater than 0"),
    ({"state_dim": 0}, "key 'state_dim'"),
    ({"lerning_rate": 1}, "unknown key 'lerning_rate'"),
    ({"pateince": 1}, "did you mean 'patience'"),
    ({"losses": {"reconstruction": -1}}, "losses.reconstruction: key 'weight': input should be greater than or equal to 0"),
    ({"losses": {"reconstruction": "big"}}, "key 'losses.reconstruction' must be a weight or a mapping"),
])
def test_bad_method_values_name_the_key(overrides: dict, message: str) -> None:
    with pytest.raises(SrlBenchError, match=message.replace("(", r"\(").replace(")", r"\)")):
        get_method("autoencoder").make_config(overrides)


def test_good_values_as_people_write_them() -> None:
    config = get_method("autoencoder").make_config(parse_assignments(["lr=3e-4", "batch_size=64", "epochs=0"]))
    assert config.lr == 3e-4 and config.batch_size == 64 and config.epochs == 0


def test_a_config_file_layers_over_the_recipe(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("lr: 1e-4\nlosses:\n  inverse: 0.5\n")
    config = get_method("srl_combination").make_config({"epochs": 3}, config_file=path)
    assert config.lr == 1e-4 and config.epochs == 3
    assert config.weights == {"reconstruction": 1.0, "inverse": 0.5, "forward": 1.0}
    with pytest.raises(SrlBenchError, match="method config file .* does not exist"):
        get_method("vae").make_config(config_file=tmp_path / "none.yaml")


@pytest.mark.parametrize("text, message", [
    ("[1, 2]\n", "must hold a mapping of keys to values, not a list"),
    ("a: [\n", "is not valid YAML"),
])
def test_bad_yaml_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(SrlBenchError, match=message):
        read_yaml_mapping(path)


def test_validate_refuses_a_non_mapping() -> None:
    with pytest.raises(SrlBenchError, match="must be a mapping"):
        validate(MethodConfig, [1, 2], "x.yaml")


def test_every_shipped_config_is_valid() -> None:
    from srl_bench.bench.config import load_benchmark

    assert {"autoencoder", "vae", "world_models"} <= set(shipped_names("methods"))
    for name in shipped_names("benchmarks"):
        assert load_benchmark(name).name
    assert {"ppo", "sac"} <= set(shipped_names("rl"))
