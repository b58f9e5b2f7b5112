"""What the agent sees: a frozen encoder between the pixel env and the agent, or the true state.

The frozen encoder sits in a **VecEnv wrapper** (``FrozenEncoderVecEnv``), not in an SB3 features
extractor. Measured with PPO (rl-zoo3 cart-pole values, 8 envs, 64×64 images, the zoo's small CNN,
2 CPU cores; ``scripts/bench_rl.py`` -> ``results/bench/rl.json``): wrapper 1690 env steps/s against
86 for the extractor on one torch thread (2254 against 130 on two), 17-20 times faster, because:

- the encoder runs once per environment step, batched over the vectorised envs; as a features
  extractor it runs again on every minibatch of every epoch (PPO: ``n_epochs`` times per sample,
  off-policy agents: on every replay sample, twice for the target networks);
- the rollout / replay buffers hold ``state_dim`` floats per step instead of a 64×64×3 image (SB3
  stores it as float32: 48 KiB a step, 5 GiB for a 100k replay buffer);
- any encoder works, even a plain NumPy callable, and SB3's VecNormalize can normalise the learned
  state (the S-RL Toolbox did the same).

``RecurrentEncoderVecEnv`` does the same for encoders whose state depends on the past (World Models'
``[z, h]``), carrying their hidden state through each episode with the last action.
"""

from __future__ import annotations

import contextlib
import warnings
from typing import Any, Callable, Iterator, Protocol, runtime_checkable

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper, VecFrameStack
from torch import nn

from srl_bench.encoder import Encoder
from srl_bench.errors import SrlBenchError
from srl_bench.losses.common import action_features


def without_frames(env: gym.Env) -> gym.Env:
    """``env`` with its drawing switched off where it can be (``draws_frames``; observations become
    one blank image): for agents that never look at the frames. Returns ``env`` itself."""
    if hasattr(env.unwrapped, "draws_frames"):
        env.unwrapped.draws_frames = False
    return env


class GroundTruthObservation(gym.ObservationWrapper):
    """The agent sees the true state (``info["state"]``) instead of the image, which is not drawn."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(without_frames(env))
        names = getattr(env.unwrapped, "state_names", None)
        if names is None:
            raise SrlBenchError(f"{env.unwrapped} names no state (state_names); it cannot run ground_truth")
        dim = len(names)
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (dim,), np.float32)
        self._state = np.zeros(dim, np.float32)

    def reset(self, **kwargs: Any):
        obs, info = self.env.reset(**kwargs)
        self._state = np.asarray(info["state"], np.float32).reshape(-1)
        return self._state.copy(), info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._state = np.asarray(info["state"], np.float32).reshape(-1)
        return self._state.copy(), reward, terminated, truncated, info

    def observation(self, observation: np.ndarray) -> np.ndarray:
        return self._state.copy()


@contextlib.contextmanager
def frozen(encoder: Any) -> Iterator[Any]:
    """Eval mode and no gradients for an ``nn.Module`` encoder while inside; restored on exit."""
    if not isinstance(encoder, nn.Module):
        yield encoder
        return
    was_training = encoder.training
    requires_grad = [p.requires_grad for p in encoder.parameters()]
    encoder.eval()
    encoder.requires_grad_(False)
    try:
        yield encoder
    finally:
        for param, flag in zip(encoder.parameters(), requires_grad):
            param.requires_grad_(flag)
        encoder.train(was_training)


def module_device(module: nn.Module) -> torch.device:
    """The device of a module's first parameter or buffer (CPU when it has none)."""
    for tensor in module.parameters():
        return tensor.device
    for tensor in module.buffers():
        return tensor.device
    return torch.device("cpu")


def optimized_embed(encoder: Encoder, image_shape: tuple[int, ...]) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """``encoder.embed`` traced and optimised for CPU inference (``torch.jit.optimize_for_inference``:
    conv + ReLU fused, weights frozen), or None when that fails or does not reproduce ``embed``.

    On 64×64 images it encodes a batch of 8 about 1.6× faster on one CPU thread, which is what brings
    PPO through a frozen encoder to over half the ground-truth speed (scripts/bench_rl.py).
    """
    if module_device(encoder).type != "cpu":
        return None
    sample = torch.rand(3, image_shape[2], image_shape[0], image_shape[1])
    other = torch.rand(5, *sample.shape[1:])
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            traced = torch.jit.optimize_for_inference(torch.jit.trace(_Embed(encoder), sample))
            for batch in (sample, other, sample[:1]):  # the trace must not have fixed the batch size
                if not torch.allclose(traced(batch), encoder.embed(batch), rtol=1e-4, atol=1e-5):
                    return None
    except Exception:  # any encoder the tracer cannot follow keeps its eager forward
        return None
    return traced


class _Embed(nn.Module):
    def __init__(self, encoder: Encoder) -> None:
        super().__init__()
        self.encoder = encoder

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder.embed(x)


def make_batch_encoder(encoder: Any, image_shape: tuple[int, ...] | None = None) -> Callable[[np.ndarray], np.ndarray]:
    """A function uint8 N×H×W×C images -> float32 (N, state_dim), from an ``nn.Module`` or a callable.

    An ``srl_bench.Encoder`` on CPU runs its ``embed`` traced and optimised (``optimized_embed``) when
    ``image_shape`` is given and the trace reproduces it; call it frozen (eval mode), as the wrappers do.
    """
    if isinstance(encoder, nn.Module):
        device = module_device(encoder)
        fast = optimized_embed(encoder, image_shape) if isinstance(encoder, Encoder) and image_shape else None

        def encode(images: np.ndarray) -> np.ndarray:
            with torch.inference_mode():
                tensor = torch.as_tensor(images, device=device)
                states = encoder(tensor) if fast is None else fast(encoder.preprocess(tensor))
            return states.float().reshape(len(images), -1).cpu().numpy()

        return encode

    def encode_callable(images: np.ndarray) -> np.ndarray:
        return np.asarray(encoder(images), dtype=np.float32).reshape(len(images), -1)

    return encode_callable


def _state_space(dim: int) -> gym.spaces.Box:
    return gym.spaces.Box(-np.inf, np.inf, (dim,), np.float32)


class FrozenEncoderVecEnv(VecEnvWrapper):
    """Encodes the observations of all envs in one batch: the agent sees ``(n_envs, state_dim)``.

    Terminal observations (``info["terminal_observation"]``, used by SB3 to bootstrap truncated
    episodes) go through the encoder in the same batch.
    """

    def __init__(self, venv: VecEnv, encoder: Any, state_dim: int | None = None,
                 encode: Callable[[np.ndarray], np.ndarray] | None = None) -> None:
        """``encode``: a ready ``make_batch_encoder(encoder, ...)``, to share one between VecEnvs.

        An encoder with ``frame_stack = k > 1`` gets the last k frames of each env, stacked along the
        channels by SB3's ``VecFrameStack`` (black before an episode's first frame), as it was trained.
        """
        frame_stack = int(getattr(encoder, "frame_stack", 1) or 1)
        if frame_stack > 1:
            venv = VecFrameStack(venv, frame_stack, channels_order="last")
        self.encode = encode or make_batch_encoder(encoder, venv.observation_space.shape)
        if state_dim is None:
            sample = np.zeros((1, *venv.observation_space.shape), venv.observation_space.dtype)
            state_dim = self.encode(sample).shape[1]
        super().__init__(venv, observation_space=_state_space(int(state_dim)))

    def reset(self) -> np.ndarray:
        return self.encode(self.venv.reset())

    def step_wait(self):
        obs, rewards, dones, infos = self.venv.step_wait()
        terminal = [i for i, info in enumerate(infos) if "terminal_observation" in info]
        batch = obs if not terminal else np.concatenate([obs, np.stack([infos[i]["terminal_observation"] for i in terminal])])
        states = self.encode(batch)
        for row, i in enumerate(terminal, start=len(obs)):
            infos[i]["terminal_observation"] = states[row]
        return states[: len(obs)], rewards, dones, infos


@runtime_checkable
class RecurrentEncoder(Protocol):
    """The step-wise protocol of an encoder whose state carries memory (World Models' ``[z, h]``).

    - ``state_dim``: length of the feature vector the agent sees (for World Models, ``z`` and ``h``).
    - ``initial_state(batch_size) -> tuple of tensors``: the hidden state at the start of an episode,
      each tensor with the batch as its **first** dimension, on the encoder's device.
    - ``encode_step(images, prev_actions, hidden) -> (features, new_hidden)``: ``images`` uint8
      N×H×W×C (a tensor on the encoder's device), ``prev_actions`` float (N, A) — the action taken just
      before these images, one-hot for discrete actions, zeros on an episode's first image —,
      ``hidden`` as returned by ``initial_state`` / the previous call. Returns float (N, state_dim)
      features and the next hidden state (same structure). For World Models: ``h_t = RNN(z_{t-1},
      a_{t-1}, h_{t-1})``, ``z_t = VAE(o_t)``, features ``[z_t, h_t]``; ``z_{t-1}`` lives in ``hidden``.
    """

    state_dim: int

    def initial_state(self, batch_size: int) -> tuple[torch.Tensor, ...]: ...

    def encode_step(
        self, images: torch.Tensor, prev_actions: torch.Tensor, hidden: tuple[torch.Tensor, ...]
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]: ...


def is_recurrent(encoder: Any) -> bool:
    """Whether ``encoder`` follows the ``RecurrentEncoder`` step-wise protocol."""
    return callable(getattr(encoder, "encode_step", None)) and callable(getattr(encoder, "initial_state", None))


class RecurrentEncoderVecEnv(VecEnvWrapper):
    """Like ``FrozenEncoderVecEnv`` for a ``RecurrentEncoder``: carries its hidden state through each
    episode, feeding it the last action, and resets it (and the last action) when an episode ends.

    Per step, one batched ``encode_step`` covers every env's new image and every terminal image of an
    episode that just ended (with that episode's hidden state, so bootstrapping sees the true last
    features).
    """

    def __init__(self, venv: VecEnv, encoder: RecurrentEncoder) -> None:
        if not is_recurrent(encoder):
            raise SrlBenchError("this encoder has no initial_state/encode_step; use FrozenEncoderVecEnv")
        self.encoder = encoder
        self.device = module_device(encoder) if isinstance(encoder, nn.Module) else torch.device("cpu")
        space = venv.action_space
        if isinstance(space, gym.spaces.Discrete):
            self.action_dim, self.discrete = int(space.n), True
        elif isinstance(space, gym.spaces.Box):
            self.action_dim, self.discrete = int(np.prod(space.shape)), False
        else:
            raise SrlBenchError(f"action space {space} is not supported (only Discrete and Box)")
        super().__init__(venv, observation_space=_state_space(int(encoder.state_dim)))
        self.hidden = self._initial(self.num_envs)
        self._actions: np.ndarray | None = None

    def _initial(self, batch: int) -> tuple[torch.Tensor, ...]:
        return tuple(self.encoder.initial_state(batch))

    def _action_tensor(self, actions: np.ndarray) -> torch.Tensor:
        return action_features(torch.as_tensor(np.asarray(actions), device=self.device), self.discrete, self.action_dim)

    def _step_encoder(self, images: np.ndarray, prev: torch.Tensor, hidden: tuple[torch.Tensor, ...]):
        with torch.inference_mode():
            features, new_hidden = self.encoder.encode_step(torch.as_tensor(images, device=self.device), prev, hidden)
        return features.float().reshape(len(images), -1), tuple(new_hidden)

    def reset(self) -> np.ndarray:
        obs = self.venv.reset()
        no_action = torch.zeros(self.num_envs, self.action_dim, device=self.device)
        features, self.hidden = self._step_encoder(obs, no_action, self._initial(self.num_envs))
        return features.cpu().numpy()

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions
        self.venv.step_async(actions)

    def step_wait(self):
        obs, rewards, dones, infos = self.venv.step_wait()
        actions = self._action_tensor(self._actions)
        done = torch.as_tensor(np.asarray(dones, bool), device=self.device)
        terminal = [i for i, info in enumerate(infos) if "terminal_observation" in info]
        fresh = self._initial(self.num_envs)
        keep = (~done).float()
        # rows of envs whose episode ended restart from the initial state with no previous action
        hidden = tuple(torch.where(done.view(-1, *[1] * (h.ndim - 1)), f, h) for h, f in zip(self.hidden, fresh))
        prev = actions * keep.unsqueeze(1)
        images = obs
        if terminal:
            rows = torch.as_tensor(terminal, device=self.device)
            images = np.concatenate([obs, np.stack([infos[i]["terminal_observation"] for i in terminal])])
            hidden = tuple(torch.cat([h, old[rows]]) for h, old in zip(hidden, self.hidden))
            prev = torch.cat([prev, actions[rows]])
        features, new_hidden = self._step_encoder(images, prev, hidden)
        features = features.cpu().numpy()
        for row, i in enumerate(terminal, start=self.num_envs):
            infos[i]["terminal_observation"] = features[row]
        self.hidden = tuple(h[: self.num_envs] for h in new_hidden)
        return features[: self.num_envs], rewards, dones, infos
