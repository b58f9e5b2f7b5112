"""The VecEnv stack of one representation: SB3's ``make_vec_env`` of the pixel env, then the frozen
encoder (or the true state), frame stacking, image transposition and VecNormalize, outermost.

Where ``make_vec_env`` would build a ``DummyVecEnv`` of pixel cart-poles or pendulums (NumPy
renderer) for a representation that looks at pixels, the envs run as one ``PixelVecEnv``
(``srl_bench.envs.vector``): the same observations, rewards, dones and infos for the same seeds,
stepped and drawn in one vectorised call.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

import gymnasium as gym
import numpy as np
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import (
    DummyVecEnv,
    SubprocVecEnv,
    VecEnv,
    VecFrameStack,
    VecNormalize,
    VecTransposeImage,
)

from srl_bench.envs import vector
from srl_bench.errors import SrlBenchError
from srl_bench.rl.config import CONTINUOUS_ONLY, DISCRETE_ONLY, RunnerConfig
from srl_bench.rl.representations import Representation
from srl_bench.rl.wrappers import (
    FrozenEncoderVecEnv,
    GroundTruthObservation,
    RecurrentEncoderVecEnv,
    is_recurrent,
    make_batch_encoder,
    without_frames,
)


def probe_env(env_id: str, env_kwargs: dict[str, Any]) -> tuple[gym.Space, int]:
    """The action space of ``env_id`` and the dimension of its true state (0 when it names none)."""
    from srl_bench.collect import make_env

    probe = make_env(env_id, **env_kwargs)
    try:
        return probe.action_space, len(getattr(probe.unwrapped, "state_names", ()))
    finally:
        probe.close()


def check_action_space(algo: str, env_id: str, space: gym.Space) -> None:
    """Refuse, with one sentence, an algorithm that cannot act in ``space``."""
    if algo in DISCRETE_ONLY and not isinstance(space, gym.spaces.Discrete):
        raise SrlBenchError(f"{algo} needs a discrete action space, but {env_id} has {space}; "
                            "use ppo or a2c, or sac/td3 for continuous actions")
    if algo in CONTINUOUS_ONLY and not isinstance(space, gym.spaces.Box):
        raise SrlBenchError(f"{algo} needs a continuous (Box) action space, but {env_id} has {space}; "
                            "use ppo, a2c or dqn for discrete actions")
    if not isinstance(space, (gym.spaces.Discrete, gym.spaces.Box)):
        raise SrlBenchError(f"action space {space} of {env_id} is not supported (only Discrete and Box)")


@dataclass
class EnvFactory:
    """Builds the (training or evaluation) VecEnv of one representation, with the same wrappers.

    ``runner`` gives the wrappers' settings (frame_stack, normalize_state, normalize_warmup,
    normalize_reward); ``gamma`` is the discount VecNormalize's reward scaling uses.
    """

    env_id: str
    env_kwargs: dict[str, Any]
    representation: Representation
    runner: RunnerConfig = field(default_factory=RunnerConfig)
    gamma: float = 0.99
    vec_env: Literal["dummy", "subproc"] = "dummy"
    batched: bool = True  # PixelVecEnv in place of DummyVecEnv where it applies (False: always DummyVecEnv)
    _encode: Callable[[np.ndarray], np.ndarray] | None = field(default=None, init=False, repr=False)

    def build(self, n_envs: int, seed: int, training: bool, encode: bool = True) -> VecEnv:
        """``n_envs`` envs seeded ``seed, seed+1, ...``; ``encode=False`` skips the representation (the
        random policy's envs, which then do not draw their frames)."""
        from srl_bench.collect import make_env

        kind = self.representation.kind
        subproc = self.vec_env == "subproc" and n_envs > 1
        ground_truth = encode and kind == "ground_truth"
        reads_frames = encode and not ground_truth  # unencoded envs serve the random policy, which acts blind
        if self.batched and reads_frames and not subproc and vector.supports(self.env_id, self.env_kwargs):
            # as make_vec_env(..., DummyVecEnv) below: action spaces seeded seed + i, resets seed + i, Monitor's infos
            venv = vector.make_pixel_vec_env(functools.partial(make_env, self.env_id, **self.env_kwargs),
                                             n_envs=n_envs, seed=seed)
        else:
            venv = make_vec_env(
                functools.partial(make_env, self.env_id), n_envs=n_envs, seed=seed, env_kwargs=self.env_kwargs,
                wrapper_class=GroundTruthObservation if ground_truth else None if reads_frames else without_frames,
                vec_env_cls=SubprocVecEnv if subproc else DummyVecEnv,
            )
        if not encode:
            return venv
        if kind == "learned":
            venv = self._encoded(venv)
        if self.runner.frame_stack > 1:
            venv = VecFrameStack(venv, self.runner.frame_stack)
        if kind == "raw_pixels":
            venv = VecTransposeImage(venv)
        # outermost: SB3's off-policy agents store VecNormalize's original observation, which must be
        # the stacked (and transposed) one the agent sees
        norm_obs = self.runner.normalize_state is not None and kind in ("learned", "ground_truth")
        if norm_obs or self.runner.normalize_reward:
            venv = VecNormalize(venv, training=training, norm_obs=norm_obs,
                                norm_reward=self.runner.normalize_reward and training, gamma=self.gamma)
            if training and norm_obs and self.runner.normalize_state == "fixed":
                warm_up_normalization(venv, self.runner.normalize_warmup, seed)
        return venv

    def _encoded(self, venv: VecEnv) -> VecEnv:
        """``venv`` seen through the frozen encoder (step-wise for a recurrent one)."""
        encoder = self.representation.encoder
        if is_recurrent(encoder):
            return RecurrentEncoderVecEnv(venv, encoder)
        if self._encode is None:  # traced once, shared by every VecEnv of this run
            self._encode = make_batch_encoder(encoder, venv.observation_space.shape)
        return FrozenEncoderVecEnv(venv, encoder, getattr(encoder, "state_dim", None), encode=self._encode)


def warm_up_normalization(venv: VecNormalize, steps: int, seed: int) -> None:
    """Fit VecNormalize's observation statistics on ``steps`` random-action steps, then freeze them."""
    venv.action_space.seed(seed)
    venv.reset()
    for _ in range(-(-steps // venv.num_envs)):
        venv.step(np.stack([venv.action_space.sample() for _ in range(venv.num_envs)]))
    venv.training = False
