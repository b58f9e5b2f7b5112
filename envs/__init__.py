"""srl-bench environments: pixel observations plus the true state in ``info["state"]``.

Importing this package registers the ``srl/...`` ids with Gymnasium::

    import gymnasium, envs
    env = gymnasium.make("srl/CartPole-v0", image_size=64)

Every env observes ``Box(0, 255, (H, W, 3), uint8)`` (default 64×64), returns the ground-truth state
as a float32 vector in ``info["state"]`` and names its entries in ``env.unwrapped.state_names``.
"""

from __future__ import annotations

from gymnasium.envs.registration import register, registry

ENV_IDS: list[str] = []


def _register(env_id: str, entry_point: str, **kwargs) -> None:
    ENV_IDS.append(env_id)
    if env_id not in registry:
        register(id=env_id, entry_point=entry_point, **kwargs)


_register("srl/CartPole-v0", "srl_bench.envs.classic:PixelCartPoleEnv", max_episode_steps=500)
_register("srl/Pendulum-v0", "srl_bench.envs.classic:PixelPendulumEnv", max_episode_steps=200)
_register("srl/MiniPacman-v0", "srl_bench.envs.minipacman:MiniPacmanEnv")
_register("srl/KukaButton-v0", "srl_bench.envs.kuka_button:KukaButtonEnv")  # truncates itself at max_steps (250)
