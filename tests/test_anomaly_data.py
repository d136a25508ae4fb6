"""Unit tests of dlcourse.anomaly_data: the transactions generator, standardization, the one-class split
(and dlcourse.data.split_tensors, which it is used with)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from dlcourse import anomaly_data, data


# ------------------------------------------------------------------------------ transactions
@pytest.fixture(scope="module")
def tx():
    return anomaly_data.make_transactions(20_000, 0.01, seed=0)


def test_transactions_shapes_types_and_names(tx):
    assert tx.features.shape == (20_000, len(anomaly_data.FEATURE_NAMES))
    assert tx.features.dtype == torch.float32 and tx.labels.dtype == torch.int64
    assert tx.labels.shape == tx.patterns.shape == (20_000,)
    assert set(tx.labels.unique().tolist()) == {0, 1}
    assert torch.equal(tx.labels, (tx.patterns > 0).long())
    assert set(tx.patterns.unique().tolist()) == {0, 1, 2, 3}
    assert torch.isfinite(tx.features).all()
    onehot = tx.features[:, -len(anomaly_data.CATEGORIES):]
    assert torch.equal(onehot.sum(1), torch.ones(20_000)), "each row has exactly one merchant category"


def test_transactions_are_imbalanced_like_fraud_data(tx):
    assert tx.fraud_rate == pytest.approx(0.01, abs=1e-4)
    small = anomaly_data.make_transactions(1000, 0.002, seed=3)
    assert int(small.labels.sum()) == 2


def test_transactions_are_seeded(tx):
    again = anomaly_data.make_transactions(20_000, 0.01, seed=0)
    other = anomaly_data.make_transactions(20_000, 0.01, seed=1)
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
    xn_z, test_z = anomaly_data.standardize(xn, test.features)
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
    ({"fraud_rate": 0.7}, ValueError), ({"fraud_rate": True}, TypeError),
])
def test_make_transactions_rejects_bad_input(kwargs, exc):
    args = {"n": 1000, "fraud_rate": 0.01} | kwargs
    with pytest.raises(exc):
        anomaly_data.make_transactions(**args)


def test_split_rejects_bad_fractions(tx):
    for bad in [(0.5, 0.4), (1.0,), (0.5, -0.1, 0.6)]:
        with pytest.raises(ValueError, match="fractions"):
            tx.split(bad)


def test_standardize_uses_reference_statistics():
    ref = torch.tensor([[1.0, 10.0], [3.0, 10.0], [5.0, 10.0]])
    other = torch.tensor([[3.0, 12.0]])
    ref_z, other_z = anomaly_data.standardize(ref, other)
    torch.testing.assert_close(ref_z[:, 0], torch.tensor([-1.0, 0.0, 1.0]))
    assert torch.isfinite(ref_z).all(), "a constant column must not divide by zero"
    torch.testing.assert_close(other_z[0, 0], torch.tensor(0.0))
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        anomaly_data.standardize(ref, torch.zeros(3, 3))
    with pytest.raises(TypeError):
        anomaly_data.standardize(ref, np.zeros((3, 2)))


# ------------------------------------------------------------------------------ splits
def test_split_tensors_and_one_class_split():
    """data.split_tensors lives in dlcourse.data; the one-class split built on it here."""
    x = torch.arange(100.0).view(100, 1, 1, 1)
    y = torch.arange(100) % 10
    x_tr, y_tr, x_te, y_te = data.split_tensors(x, y, 20, seed=0)
    assert x_tr.shape[0] == 80 and x_te.shape[0] == 20
    assert set(x_tr.flatten().tolist()).isdisjoint(x_te.flatten().tolist())
    torch.testing.assert_close(y_tr, x_tr.flatten().long() % 10)
    x_norm, x_test, is_anom = anomaly_data.one_class_split(x_tr, y_tr, x_te, y_te, 3)
    assert (x_norm.flatten().long() % 10 == 3).all() and len(x_norm) == int((y_tr == 3).sum())
    assert torch.equal(is_anom, (y_te != 3).long()) and x_test is x_te
    with pytest.raises(ValueError, match="does not occur"):
        anomaly_data.one_class_split(x_tr, y_tr, x_te, y_te, 11)
    with pytest.raises(ValueError, match="n_test"):
        data.split_tensors(x, y, 100)
