"""The installed package, not the source tree: a wheel carries every module and config inside the
``srl_bench`` namespace, and works from any directory."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(out)], check=True, capture_output=True)
    return next(out.glob("srl_bench-*.whl"))


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel unpacked as site-packages would hold it (dependencies come from this environment)."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    return target


def test_wheel_holds_every_module_and_config_in_our_namespace(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"srl_bench/{p.relative_to(ROOT / 'srl_bench').as_posix()}" for p in (ROOT / "srl_bench").rglob("*.py")}
    expected |= {f"srl_bench/envs/{p.relative_to(ROOT / 'envs').as_posix()}" for p in (ROOT / "envs").rglob("*")
                 if p.is_file() and p.suffix in (".py", ".urdf")}
    expected |= {f"srl_bench/configs/{p.relative_to(ROOT / 'configs').as_posix()}" for p in (ROOT / "configs").rglob("*.yaml")}
    assert expected <= names, sorted(expected - names)
    top_level = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top_level == {"srl_bench"}, top_level


def _run(installed: Path, cwd: Path, code: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(installed), "SDL_VIDEODRIVER": "dummy"}
    result = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_installed_package_works_from_another_directory(installed: Path, tmp_path: Path) -> None:
    code = f"""
import json, srl_bench
from pathlib import Path
assert Path(srl_bench.__file__).is_relative_to({str(installed)!r}), srl_bench.__file__
from srl_bench.cli import main
from srl_bench.methods import get_method
from srl_bench.rl.config import load_rl_config
vae = get_method("vae")
assert vae.source.startswith({str(installed)!r}) and vae.make_config().weights == {{"vae_reconstruction": 1.0, "kl": 1.0}}
assert load_rl_config("ppo", "srl/CartPole-v0").source.startswith({str(installed)!r})
assert main(["generate", "srl/CartPole-v0", "--episodes", "4", "--max-steps", "10", "--out", "data", "--quiet"]) == 0
assert main(["train", "denoising_autoencoder", "--data", "data", "--out", "run", "--epochs", "1", "--quiet"]) == 0
saved = json.loads(Path("run/config.json").read_text())["config"]["losses"]
assert saved == {{"reconstruction": {{"weight": 1.0, "noise_std": 0.1, "output": "linear"}}}}, saved
assert main(["evaluate", "run", "--data", "data"]) == 0
print("ok")
"""
    assert _run(installed, tmp_path, code).strip().endswith("ok")
    assert not (tmp_path / "srl_bench").exists()
