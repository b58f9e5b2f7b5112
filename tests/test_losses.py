"""The loss terms compute what their papers say: small cases worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from srl_bench.encoder import Encoder
from srl_bench.errors import SrlBenchError
from srl_bench.losses import LOSS_TERMS, Batch
from srl_bench.losses.contrastive import info_nce, random_shift
from srl_bench.losses.dynamics import inverse_loss
from srl_bench.losses.priors import (
    causality,
    different_reward_pairs,
    proportionality,
    repeatability,
    same_action_pairs,
    temporal_coherence,
)
from srl_bench.losses.spatial import KeypointSmoothness
from srl_bench.losses.vae import gaussian_kl
from srl_bench.losses.world_models import mdn_nll
from srl_bench.methods import MethodConfig, get_method
from srl_bench.nets import SpatialSoftArgmax


class VectorEncoder(Encoder):
    """Test double: a 1×1×D "image" whose pixel values are the state itself."""

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1) * 255.0


def vector_batch(states, next_states, actions, rewards, sequence_length: int = 1) -> Batch:
    states, next_states = np.asarray(states, np.uint8), np.asarray(next_states, np.uint8)
    tensors = {
        "obs": torch.as_tensor(states[:, None, None, :]),
        "next_obs": torch.as_tensor(next_states[:, None, None, :]),
        "actions": torch.as_tensor(np.asarray(actions)),
        "rewards": torch.as_tensor(np.asarray(rewards, np.float32)),
    }
    return Batch(VectorEncoder(states.shape[1]), tensors, sequence_length)


def term(name: str, discrete: bool = True, state_dim: int = 2, **params):
    context = {"state_dim": state_dim, "discrete_actions": discrete, "action_dim": 2, "image_shape": (1, 1, state_dim)}
    return LOSS_TERMS[name].build(LOSS_TERMS[name].Config(**params), context)


# Three transitions: Δs = (1, 0), (0, 2), (1, 1); transitions 0 and 1 took action 0 and earned
# different rewards; transition 2 took action 1.
S = [[0, 0], [1, 1], [5, 5]]
S_NEXT = [[1, 0], [1, 3], [6, 6]]
ACTIONS = [0, 0, 1]
REWARDS = [0.0, 1.0, 0.0]


def test_robotic_priors_by_hand() -> None:
    s, s_next = torch.tensor(S, dtype=torch.float32), torch.tensor(S_NEXT, dtype=torch.float32)
    pairs = same_action_pairs(torch.tensor(ACTIONS), discrete=True)
    assert pairs.nonzero().tolist() == [[0, 1]]
    # temporal coherence: (1 + 4 + 2) / 3
    assert temporal_coherence(s, s_next).item() == pytest.approx(7 / 3)
    # proportionality: (‖(0, 2)‖ − ‖(1, 0)‖)² = 1
    assert proportionality(s, s_next, pairs).item() == pytest.approx(1.0, abs=1e-5)
    # causality: exp(−‖(1, 1) − (0, 0)‖²) = exp(−2)
    different = pairs & different_reward_pairs(torch.tensor(REWARDS))
    assert causality(s, different).item() == pytest.approx(math.exp(-2))
    # repeatability: exp(−2) · ‖(0, 2) − (1, 0)‖² = 5 exp(−2)
    assert repeatability(s, s_next, pairs).item() == pytest.approx(5 * math.exp(-2))


def test_robotic_prior_terms_read_the_batch() -> None:
    batch = vector_batch(S, S_NEXT, ACTIONS, REWARDS)
    assert term("temporal_coherence")(batch).item() == pytest.approx(7 / 3, rel=1e-5)
    assert term("proportionality")(batch).item() == pytest.approx(1.0, rel=1e-4)
    assert term("causality")(batch).item() == pytest.approx(math.exp(-2), rel=1e-4)
    assert term("repeatability")(batch).item() == pytest.approx(5 * math.exp(-2), rel=1e-4)
    # equal rewards: no causality pair, the expectation over nothing is 0
    assert term("causality")(vector_batch(S, S_NEXT, ACTIONS, [1.0, 1.0, 1.0])).item() == 0.0


def test_priors_pair_continuous_actions_within_tolerance() -> None:
    actions = torch.tensor([[0.50], [0.55], [1.50]])
    assert same_action_pairs(actions, discrete=False, tolerance=0.1).nonzero().tolist() == [[0, 1]]
    assert not same_action_pairs(actions, discrete=False, tolerance=0.01).any()
    batch = vector_batch(S, S_NEXT, actions.numpy(), REWARDS)
    assert term("proportionality", discrete=False, action_tolerance=0.1)(batch).item() == pytest.approx(1.0, rel=1e-4)


def test_vae_kl_by_hand() -> None:
    # dim 1: μ = 1, σ² = 1 -> ½(1 + 1 − 1 − 0) = ½; dim 2: μ = 0, σ² = 2 -> ½(2 − 1 − log 2)
    mean = torch.tensor([[1.0, 0.0]])
    log_var = torch.tensor([[0.0, math.log(2.0)]])
    assert gaussian_kl(mean, log_var).item() == pytest.approx(0.5 + 0.5 * (1 - math.log(2)))
    # N(0, I) against itself: 0; averaged over the batch
    assert gaussian_kl(torch.zeros(3, 4), torch.zeros(3, 4)).item() == 0.0
    two = gaussian_kl(torch.tensor([[1.0, 0.0], [0.0, 0.0]]), torch.zeros(2, 2))
    assert two.item() == pytest.approx(0.25)


def test_inverse_loss_discrete_is_cross_entropy() -> None:
    # uniform logits over 2 actions: log 2; logits (log 3, 0) with a_t = 0: p = 3/4
    logits = torch.tensor([[0.0, 0.0], [math.log(3.0), 0.0]])
    loss = inverse_loss(logits, torch.tensor([1, 0]), discrete=True)
    assert loss.item() == pytest.approx((math.log(2) - math.log(0.75)) / 2)


def test_inverse_loss_continuous_is_a_regression() -> None:
    prediction = torch.tensor([[1.0, 2.0], [0.0, 0.0]])
    actions = torch.tensor([[0.0, 0.0], [0.0, 1.0]])
    assert inverse_loss(prediction, actions, discrete=False).item() == pytest.approx((1 + 4 + 0 + 1) / 4)
    # a (N,) vector of 1-D actions is shaped like the prediction
    assert inverse_loss(torch.tensor([[0.5], [1.0]]), torch.tensor([1.5, 1.0]), discrete=False).item() == pytest.approx(0.5)


def test_inverse_term_uses_the_right_loss_per_action_space() -> None:
    discrete = term("inverse", discrete=True)
    continuous = term("inverse", discrete=False)
    assert discrete.model[-1].out_features == 2 and continuous.model[-1].out_features == 2
    with torch.no_grad():  # a head that always predicts the zero action
        for layer in continuous.model:
            if isinstance(layer, torch.nn.Linear):
                layer.weight.zero_(), layer.bias.zero_()
    batch = vector_batch(S, S_NEXT, [[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]], REWARDS)
    assert continuous(batch).item() == pytest.approx((1 + 0 + 0 + 4 + 1 + 1) / 6)  # mean of a_t²


def test_mdn_likelihood_by_hand() -> None:
    half_log_two_pi = 0.5 * math.log(2 * math.pi)
    target = torch.tensor([[1.0]])  # (..., Z=1)
    # one component, N(0, 1): −log φ(1) = ½ + ½ log 2π
    one = mdn_nll(target, torch.zeros(1, 1, 1), torch.zeros(1, 1, 1), torch.zeros(1, 1, 1))
    assert one.item() == pytest.approx(0.5 + half_log_two_pi)
    # two equal components at 0 and 2, both 1 away from the target: the same value
    two = mdn_nll(target, torch.zeros(1, 2, 1), torch.tensor([[[0.0], [2.0]]]), torch.zeros(1, 2, 1))
    assert two.item() == pytest.approx(0.5 + half_log_two_pi)
    # weights (3/4, 1/4), N(0, 1) and N(3, 2²), target 0:
    # p = ¾ φ(0) + ¼ · ½ φ(1.5)
    phi = lambda x: math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)  # noqa: E731
    expected = -math.log(0.75 * phi(0.0) + 0.25 * 0.5 * phi(1.5))
    mixed = mdn_nll(torch.tensor([[0.0]]), torch.tensor([[[math.log(3.0)], [0.0]]]),
                    torch.tensor([[[0.0], [3.0]]]), torch.tensor([[[0.0], [math.log(2.0)]]]))
    assert mixed.item() == pytest.approx(expected)
    # averaged over dimensions: (..., K=1, Z=2)
    pair = mdn_nll(torch.tensor([[0.0, 1.0]]), torch.zeros(1, 1, 2), torch.zeros(1, 1, 2), torch.zeros(1, 1, 2))
    assert pair.item() == pytest.approx(half_log_two_pi + 0.25)


def test_forward_model_of_a_constant_state_costs_nothing() -> None:
    forward = term("forward")
    constant = vector_batch([[3, 3]] * 4, [[3, 3]] * 4, [0, 1, 0, 1], [0, 0, 0, 0])
    with torch.no_grad():
        forward.model[-1].weight.zero_(), forward.model[-1].bias.zero_()
    assert forward(constant).item() == 0.0  # why a forward model alone can collapse


def test_info_nce_by_hand() -> None:
    # orthonormal queries equal to their keys, τ = 1: −log(e / (e + 1)) per row, both directions
    eye = torch.eye(2)
    assert info_nce(eye, eye, temperature=1.0).item() == pytest.approx(math.log(1 + math.exp(-1)))


def test_random_shift_translates_whole_images() -> None:
    torch.manual_seed(0)
    images = torch.arange(16 * 2 * 6 * 6, dtype=torch.float32).reshape(16, 2, 6, 6)
    shifted = random_shift(images, 2)
    assert shifted.shape == images.shape
    padded = torch.nn.functional.pad(images, (2, 2, 2, 2), mode="replicate")
    offsets = []
    for i in range(len(images)):  # each image, all its channels, is one crop of its padded self
        found = [(dy, dx) for dy in range(5) for dx in range(5)
                 if torch.equal(shifted[i], padded[i, :, dy : dy + 6, dx : dx + 6])]
        assert len(found) == 1, i
        offsets.append(found[0])
    assert len(set(offsets)) > 1  # each image draws its own offset
    assert random_shift(images, 0) is images


def test_spatial_soft_argmax_and_smoothness_by_hand() -> None:
    maps = torch.full((1, 1, 3, 3), -1e4)
    maps[0, 0, 0, 2] = 0.0  # top-right: x = 1, y = −1
    np.testing.assert_allclose(SpatialSoftArgmax(3, 3)(maps).detach().numpy(), [[1.0, -1.0]], atol=1e-6)
    # keypoints 0, 1, 3 over three steps: acceleration 1; at constant speed: 0
    batch = vector_batch([[0, 0], [1, 0], [3, 0], [0, 0], [1, 1], [2, 2]], [[0, 0]] * 6, [0] * 6, [0] * 6,
                         sequence_length=3)
    assert KeypointSmoothness()(batch).item() == pytest.approx((1 + 0) / 2)


def test_config_rejects_unknown_keys_and_wrong_types() -> None:
    spec = get_method("robotic_priors")
    with pytest.raises(SrlBenchError) as error:
        spec.make_config({"temporal_coherance": 1.0})
    message = str(error.value)
    assert "unknown key 'temporal_coherance'" in message and "valid keys here" in message and "patience" in message
    with pytest.raises(SrlBenchError) as error:
        spec.make_config({"losses": {"causality": {"reward_tolerence": 0.1}}})
    assert "losses.causality" in str(error.value) and "did you mean 'reward_tolerance'" in str(error.value)
    with pytest.raises(SrlBenchError, match="key 'temperature': input should be a valid number"):
        get_method("contrastive").make_config({"losses": {"infonce": {"temperature": "hot"}}})
    with pytest.raises(SrlBenchError, match="unknown loss term 'reconstrution' \\(did you mean 'reconstruction'\\?\\)"):
        MethodConfig.model_validate({"losses": {"reconstrution": 1.0}})


def test_term_parameters_live_with_their_term_and_merge_by_key() -> None:
    # a β-VAE is a config of the vae: the KL weight
    beta = get_method("vae").make_config({"losses": {"kl": 4}})
    assert beta.weights == {"vae_reconstruction": 1.0, "kl": 4.0}
    # changing a weight keeps the term's own parameters; a weight of 0 removes the term
    denoising = get_method("denoising_autoencoder").make_config({"losses": {"reconstruction": 2}})
    assert denoising.losses["reconstruction"].noise_std == 0.1 and denoising.weights == {"reconstruction": 2.0}
    combination = get_method("srl_combination").make_config({"losses": {"forward": 0}})
    assert combination.weights == {"reconstruction": 1.0, "inverse": 1.0}
    # the term's defaults are the term's: the YAML need not repeat them
    assert get_method("contrastive").make_config().losses["infonce"].temperature == 0.1
