"""Unit tests of dlcourse.anomaly: transactions generator, splits, image metrics, noise, codecs."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from dlcourse import anomaly


# ------------------------------------------------------------------------------ transactions
@pytest.fixture(scope="module")
def tx():
    return anomaly.make_transactions(20_000, 0.01, seed=0)


def test_transactions_shapes_types_and_names(tx):
    assert tx.features.shape == (20_000, len(anomaly.FEATURE_NAMES))
    assert tx.features.dtype == torch.float32 and tx.labels.dtype == torch.int64
    assert tx.labels.shape == tx.patterns.shape == (20_000,)
    assert set(tx.labels.unique().tolist()) == {0, 1}
    assert torch.equal(tx.labels, (tx.patterns > 0).long())
    assert set(tx.patterns.unique().tolist()) == {0, 1, 2, 3}
    assert torch.isfinite(tx.features).all()
    onehot = tx.features[:, -len(anomaly.CATEGORIES):]
    assert torch.equal(onehot.sum(1), torch.ones(20_000)), "each row has exactly one merchant category"


def test_transactions_are_imbalanced_like_fraud_data(tx):
    assert tx.fraud_rate == pytest.approx(0.01, abs=1e-4)
    small = anomaly.make_transactions(1000, 0.002, seed=3)
    assert int(small.labels.sum()) == 2


def test_transactions_are_seeded(tx):
    again = anomaly.make_transactions(20_000, 0.01, seed=0)
    other = anomaly.make_transactions(20_000, 0.01, seed=1)
    assert torch.equal(tx.features, again.features) and torch.equal(tx.labels, again.labels)
    assert not torch.equal(tx.features, other.features)


def test_no_single_feature_gives_fraud_away(tx):
    """Each feature alone ranks fraud only moderately (ROC-AUC < 0.8, either direction)."""
    y = tx.labels.numpy()
    for j, name in enumerate(tx.feature_names):
        auc = roc_auc_score(y, tx.features[:, j].numpy())
        assert max(auc, 1 - auc) < 0.8, f"{name} alone separates fraud with AUC {max(auc, 1 - auc):.3f}"


def test_fraud_is_found_by_feature_combinations(tx):
    """A linear model of normal data (PCA, 4 components) finds fraud far better than any single feature:
    the patterns live in the correlations."""
    from sklearn.decomposition import PCA

    train, test = tx.split((0.7, 0.3), seed=0)
    xn = train.features[train.labels == 0]
    xn_z, test_z = anomaly.standardize(xn, test.features)
    pca = PCA(4, random_state=0).fit(xn_z.numpy())
    rec = pca.inverse_transform(pca.transform(test_z.numpy()))
    score = ((rec - test_z.numpy()) ** 2).mean(1)
    assert roc_auc_score(test.labels.numpy(), score) > 0.88


def test_split_is_stratified_disjoint_and_complete(tx):
    parts = tx.split((0.6, 0.2, 0.2), seed=5)
    assert [len(p) for p in parts] == [12_000, 4_000, 4_000]
    for p in parts:
        assert p.fraud_rate == pytest.approx(0.01, abs=0.001)
    rows = torch.cat([p.features for p in parts])
    assert torch.equal(rows.sum(0).round(decimals=0), tx.features.sum(0).round(decimals=0))
    a, b = tx.split(seed=5)[0], tx.split(seed=5)[0]
    assert torch.equal(a.features, b.features)


@pytest.mark.parametrize("kwargs, exc", [
    ({"n": 50}, ValueError), ({"n": 1000.0}, TypeError), ({"fraud_rate": 0.0}, ValueError),
    ({"fraud_rate": 0.7}, ValueError), ({"fraud_rate": True}, ValueError),
])
def test_make_transactions_rejects_bad_input(kwargs, exc):
    args = {"n": 1000, "fraud_rate": 0.01} | kwargs
    with pytest.raises(exc):
        anomaly.make_transactions(**args)


def test_split_rejects_bad_fractions(tx):
    for bad in [(0.5, 0.4), (1.0,), (0.5, -0.1, 0.6)]:
        with pytest.raises(ValueError, match="fractions"):
            tx.split(bad)


def test_standardize_uses_reference_statistics():
    ref = torch.tensor([[1.0, 10.0], [3.0, 10.0], [5.0, 10.0]])
    other = torch.tensor([[3.0, 12.0]])
    ref_z, other_z = anomaly.standardize(ref, other)
    torch.testing.assert_close(ref_z[:, 0], torch.tensor([-1.0, 0.0, 1.0]))
    assert torch.isfinite(ref_z).all(), "a constant column must not divide by zero"
    torch.testing.assert_close(other_z[0, 0], torch.tensor(0.0))
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        anomaly.standardize(ref, torch.zeros(3, 3))
    with pytest.raises(TypeError):
        anomaly.standardize(ref, np.zeros((3, 2)))


# ------------------------------------------------------------------------------ splits
def test_split_tensors_and_one_class_split():
    x = torch.arange(100.0).view(100, 1, 1, 1)
    y = torch.arange(100) % 10
    x_tr, y_tr, x_te, y_te = anomaly.split_tensors(x, y, 20, seed=0)
    assert x_tr.shape[0] == 80 and x_te.shape[0] == 20
    assert set(x_tr.flatten().tolist()).isdisjoint(x_te.flatten().tolist())
    torch.testing.assert_close(y_tr, x_tr.flatten().long() % 10)
    x_norm, x_test, is_anom = anomaly.one_class_split(x_tr, y_tr, x_te, y_te, 3)
    assert (x_norm.flatten().long() % 10 == 3).all() and len(x_norm) == int((y_tr == 3).sum())
    assert torch.equal(is_anom, (y_te != 3).long()) and x_test is x_te
    with pytest.raises(ValueError, match="does not occur"):
        anomaly.one_class_split(x_tr, y_tr, x_te, y_te, 11)
    with pytest.raises(ValueError, match="n_test"):
        anomaly.split_tensors(x, y, 100)


# ------------------------------------------------------------------------------ image metrics
def test_psnr_matches_closed_form():
    ref = torch.zeros(2, 1, 4, 4)
    x = ref.clone()
    x[0] += 0.1                      # MSE 0.01 -> 20 dB
    x[1, 0, 0, 0] = 1.0              # MSE 1/16 -> 10 log10(16) dB
    out = anomaly.psnr(x, ref)
    torch.testing.assert_close(out, torch.tensor([20.0, 10 * math.log10(16)]))
    torch.testing.assert_close(anomaly.psnr(x, ref, reduction="mean"), out.mean())
    assert math.isinf(float(anomaly.psnr(ref, ref)[0]))
    torch.testing.assert_close(anomaly.psnr(x * 255, ref, data_range=255.0), out)
    with pytest.raises(ValueError, match="reference"):
        anomaly.psnr(x, ref[:, :, :2])
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        anomaly.psnr(x[0], ref[0])


def test_gaussian_noise_statistics_and_seed():
    x = torch.full((4, 1, 64, 64), 0.5)
    g1, g2 = torch.Generator().manual_seed(0), torch.Generator().manual_seed(0)
    a, b = anomaly.gaussian_noise(x, 0.1, generator=g1), anomaly.gaussian_noise(x, 0.1, generator=g2)
    assert torch.equal(a, b)
    assert abs(float((a - x).std()) - 0.1) < 0.005 and abs(float((a - x).mean())) < 0.005
    assert anomaly.gaussian_noise(x, 2.0).min() >= 0 and anomaly.gaussian_noise(x, 2.0).max() <= 1
    assert anomaly.gaussian_noise(x, 2.0, clip=False).max() > 1
    with pytest.raises(ValueError):
        anomaly.gaussian_noise(x, -1.0)


def test_masking_noise_drops_the_requested_fraction_in_every_channel():
    x = torch.rand(8, 3, 32, 32) + 1.0
    out = anomaly.masking_noise(x, 0.3, generator=torch.Generator().manual_seed(0))
    dropped = out == 0
    assert abs(float(dropped.float().mean()) - 0.3) < 0.02
    assert torch.equal(dropped[:, 0], dropped[:, 1]) and torch.equal(dropped[:, 0], dropped[:, 2])
    torch.testing.assert_close(out[~dropped], x[~dropped])
    assert torch.equal(anomaly.masking_noise(x, 0.0), x)
    with pytest.raises(ValueError):
        anomaly.masking_noise(x, 1.5)
    with pytest.raises(TypeError):
        anomaly.masking_noise(x.long(), 0.1)


def test_downscale_and_bicubic_upscale():
    x = torch.rand(2, 1, 8, 8)
    low = anomaly.downscale(x, 2)
    assert low.shape == (2, 1, 4, 4)
    torch.testing.assert_close(low[0, 0, 0, 0], x[0, 0, :2, :2].mean())
    up = anomaly.upscale_bicubic(low, 2)
    assert up.shape == x.shape and up.min() >= 0 and up.max() <= 1
    flat = torch.full((1, 1, 4, 4), 0.25)
    torch.testing.assert_close(anomaly.upscale_bicubic(flat, 2), torch.full((1, 1, 8, 8), 0.25))
    with pytest.raises(ValueError, match="multiples"):
        anomaly.downscale(torch.rand(1, 1, 5, 5), 2)


# ------------------------------------------------------------------------------ compression
def test_png_is_lossless_and_jpeg_quality_trades_size_for_psnr():
    from dlcourse import data

    x = data.load_digits(size=32).tensors[0][:16]
    x8 = torch.round(x * 255) / 255
    png_sizes, png_dec = anomaly.codec_sizes(x8, "png")
    assert png_sizes.shape == (16,) and png_sizes.dtype == np.int64 and (png_sizes > 0).all()
    torch.testing.assert_close(png_dec, x8)
    lo_sizes, lo_dec = anomaly.codec_sizes(x8, "jpeg", quality=10)
    hi_sizes, hi_dec = anomaly.codec_sizes(x8, "jpeg", quality=90)
    assert lo_sizes.mean() < hi_sizes.mean()
    assert anomaly.psnr(lo_dec, x8, reduction="mean") < anomaly.psnr(hi_dec, x8, reduction="mean")
    rgb_sizes, rgb_dec = anomaly.codec_sizes(torch.rand(2, 3, 16, 16), "jpeg")
    assert rgb_dec.shape == (2, 3, 16, 16)
    with pytest.raises(ValueError, match="fmt"):
        anomaly.codec_sizes(x8, "gif")
    with pytest.raises(ValueError, match="quality"):
        anomaly.codec_sizes(x8, "jpeg", quality=0)
    with pytest.raises(ValueError, match="channels"):
        anomaly.codec_sizes(torch.rand(1, 2, 8, 8))


def test_quantize_uniform_levels_and_error():
    z = torch.linspace(-1, 1, 1001).view(-1, 1)
    q = anomaly.quantize_uniform(z, 2, -1.0, 1.0)
    assert sorted(set(q.flatten().tolist())) == pytest.approx([-1.0, -1 / 3, 1 / 3, 1.0])
    q8 = anomaly.quantize_uniform(z, 8, -1.0, 1.0)
    assert float((q8 - z).abs().max()) <= 1 / 255 + 1e-6
    clipped = anomaly.quantize_uniform(torch.tensor([[5.0, -5.0]]), 4, torch.tensor([0.0, -1.0]), torch.tensor([1.0, 1.0]))
    torch.testing.assert_close(clipped, torch.tensor([[1.0, -1.0]]))
    with pytest.raises(ValueError, match="bits"):
        anomaly.quantize_uniform(z, 0, -1.0, 1.0)
    with pytest.raises(ValueError, match="hi"):
        anomaly.quantize_uniform(z, 4, 1.0, 1.0)


def test_image_grid_vrange_pins_one_scale_for_every_image():
    """Lecture 5 shows half-contrast and blank inputs: with vrange=(0, 1) they must look dark, not stretched."""
    import matplotlib.pyplot as plt

    from dlcourse import plotting

    imgs = torch.stack([torch.full((1, 4, 4), 0.5), torch.zeros(1, 4, 4), torch.rand(1, 4, 4)])
    imgs[0, 0, 0, 0] = 0.2                                   # not constant: autoscale would stretch it to 0..1
    fig = plotting.image_grid(imgs, normalize=False, vrange=(0, 1))
    clims = [ax.images[0].get_clim() for ax in fig.axes if ax.images]
    assert clims == [(0, 1)] * 3
    auto = plotting.image_grid(imgs, normalize=False)
    assert [ax.images[0].get_clim() for ax in auto.axes if ax.images][0] == pytest.approx((0.2, 0.5))
    for bad in ((1, 0), (0, 0), (0,)):
        with pytest.raises(ValueError, match="vrange"):
            plotting.image_grid(imgs, normalize=False, vrange=bad)
    plt.close(fig)
    plt.close(auto)
