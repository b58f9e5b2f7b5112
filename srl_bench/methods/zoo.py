"""The learned methods of the zoo: each a recipe of an encoder and weighted loss terms.

A recipe's loss terms and their weights live in ``configs/methods/<name>.yaml`` (``defaults`` below
say the same, for when no YAML is found), so a new combination is a config, not new code.
"""

from __future__ import annotations

from srl_bench.encoder import Encoder
from srl_bench.errors import SrlBenchError
from srl_bench.methods.base import (
    DataContext,
    Method,
    SRLModel,
    build_objective,
    register_method,
    resolve_state_dim,
)
from srl_bench.methods.config import MethodConfig, RecipeConfig
from srl_bench.nets import SpatialSoftmaxEncoder, make_encoder


def build_encoder(config: MethodConfig, context: DataContext, state_dim: int, out_dim: int | None = None) -> Encoder:
    """The configured backbone (small or deep CNN, or MLP), with a clear error for an unknown one."""
    try:
        return make_encoder(config.backbone, context.image_shape, state_dim, out_dim)
    except ValueError as exc:
        raise SrlBenchError(str(exc)) from exc


def build_recipe(config: MethodConfig, context: DataContext) -> SRLModel:
    """An encoder trained with the weighted loss terms of ``config.losses``."""
    state_dim = resolve_state_dim(config, context)
    return SRLModel(build_encoder(config, context, state_dim), build_objective(config, context, state_dim))


def build_variational(config: MethodConfig, context: DataContext) -> SRLModel:
    """An encoder with a Gaussian head (mean and log-variance; the mean is the state) and its terms."""
    state_dim = resolve_state_dim(config, context)
    encoder = build_encoder(config, context, state_dim, out_dim=2 * state_dim)
    return SRLModel(encoder, build_objective(config, context, state_dim))


def build_spatial(config: MethodConfig, context: DataContext) -> SRLModel:
    """A spatial soft-argmax encoder (state_dim / 2 keypoints; by default one per ground-truth
    dimension, rounded up to pairs) and its terms."""
    state_dim = config.state_dim if config.state_dim is not None else 2 * ((context.true_state_dim + 1) // 2)
    if state_dim < 2 or state_dim % 2:
        raise SrlBenchError(f"the spatial autoencoder's state is (x, y) per keypoint: state_dim must be even, got {state_dim}")
    encoder = SpatialSoftmaxEncoder(context.image_shape, state_dim)
    return SRLModel(encoder, build_objective(config, context, state_dim))


def _recipe(name: str, description: str, paper: str, losses: dict[str, float], build=build_recipe, **defaults) -> None:
    register_method(Method(name=name, description=description, paper=paper, build=build,
                           config_class=RecipeConfig, defaults={"losses": losses, **defaults}))


_recipe("autoencoder", "CNN encoder + decoder trained to reconstruct the image from the state",
        "Hinton & Salakhutdinov 2006, Reducing the dimensionality of data with neural networks, Science; "
        "Lange, Riedmiller & Voigtländer 2012, Autonomous reinforcement learning on raw visual input data, IJCNN",
        {"reconstruction": 1.0})
_recipe("denoising_autoencoder", "autoencoder that reconstructs the clean image from a noisy one",
        "Vincent, Larochelle, Bengio & Manzagol 2008, Extracting and composing robust features with denoising "
        "autoencoders, ICML", {"reconstruction": 1.0}, noise_std=0.1)
_recipe("vae", "variational autoencoder: negative ELBO, the KL weight is β (β-VAE: losses.kl=4)",
        "Kingma & Welling 2014, Auto-encoding variational Bayes, ICLR; Higgins et al. 2017, beta-VAE, ICLR",
        {"vae_reconstruction": 1.0, "kl": 1.0}, build=build_variational)
_recipe("forward", "latent forward model s_t+1 = f(s_t, a_t) alone (can collapse to a constant state)",
        "Lesort, Díaz-Rodríguez, Goudou & Filliat 2018, State representation learning for control: an overview, "
        "Neural Networks 108; as a loss of Raffin et al. 2018, S-RL Toolbox, arXiv:1809.09369", {"forward": 1.0})
_recipe("inverse", "inverse model: predict a_t from (s_t, s_t+1); cross-entropy or regression",
        "Pathak et al. 2017, Curiosity-driven exploration by self-supervised prediction, ICML; Shelhamer et al. "
        "2016, Loss is its own reward, arXiv:1612.07307", {"inverse": 1.0})
_recipe("reward", "reward model: predict the reward earned at t from s_t",
        "Jaderberg et al. 2017, Reinforcement learning with unsupervised auxiliary tasks (UNREAL), ICLR",
        {"reward": 1.0})
_recipe("robotic_priors", "temporal coherence, proportionality, repeatability and causality priors",
        "Jonschkowski & Brock 2015, Learning state representations with robotic priors, Autonomous Robots 39(3)",
        {"temporal_coherence": 1.0, "proportionality": 5.0, "repeatability": 5.0, "causality": 1.0})
_recipe("srl_combination", "autoencoder + inverse + forward models on one shared state",
        "Raffin et al. 2018, S-RL Toolbox: environments, datasets and evaluation metrics for state "
        "representation learning, arXiv:1809.09369", {"reconstruction": 1.0, "inverse": 1.0, "forward": 1.0})
_recipe("srl_splits", "autoencoder and inverse model each own a slice of the state; reward model on all of it",
        "Raffin et al. 2019, Decoupling feature extraction from policy learning: assessing benefits of state "
        "representation learning in goal based robotics, arXiv:1901.08651",
        {"reconstruction": 1.0, "inverse": 2.0, "reward": 1.0}, splits={"reconstruction": 3.0, "inverse": 1.0})
_recipe("contrastive", "temporal InfoNCE: a frame's state must identify the next frame's among the batch",
        "Stooke, Lee, Abbeel & Laskin 2021, Decoupling representation learning from reinforcement learning (ATC), "
        "ICML; Laskin, Srinivas & Abbeel 2020, CURL, ICML; van den Oord, Li & Vinyals 2018, CPC, arXiv:1807.03748",
        {"infonce": 1.0})
_recipe("spatial_autoencoder", "deep spatial autoencoder: spatial soft-argmax keypoints, linear decoder",
        "Finn, Tan, Duan, Darrell, Levine & Abbeel 2016, Deep spatial autoencoders for visuomotor learning, ICRA",
        {"spatial_reconstruction": 1.0, "keypoint_smoothness": 1.0}, build=build_spatial)
_recipe("supervised", "baseline: CNN regressing the standardised true state (upper reference)",
        "upper reference, as in Raffin et al. 2018, S-RL Toolbox, arXiv:1809.09369", {"state_regression": 1.0})
