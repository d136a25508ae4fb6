"""Unit tests for dlcourse.viz: hooks (values, removal, train/eval flags), metrics, checks, plots."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from dlcourse import _lecture_viz as lv  # noqa: E402
from dlcourse import viz  # noqa: E402


def _all_hooks(model: nn.Module) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks) for m in model.modules())


def _small_model() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Dropout(0.5),
                         nn.Conv2d(4, 6, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(6, 3))


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# --------------------------------------------------------------------------- resolve_layers / checks
def test_resolve_layers_names_and_modules():
    m = _small_model()
    got = lv.resolve_layers(m, ["0", m[4]])
    assert list(got) == ["0", "4"]
    assert got["0"] is m[0] and got["4"] is m[4]
    assert list(lv.resolve_layers(m, "2")) == ["2"]


def test_resolve_layers_errors():
    m = _small_model()
    with pytest.raises(ValueError, match=r"'conv9' is not in the model; its layers are: 0, 1, 2"):
        lv.resolve_layers(m, "conv9")
    with pytest.raises(ValueError, match="not part of the model"):
        lv.resolve_layers(m, nn.Conv2d(1, 4, 3))
    with pytest.raises(ValueError, match="empty"):
        lv.resolve_layers(m, [])
    with pytest.raises(TypeError, match="name .str. or a submodule"):
        lv.resolve_layers(m, [3])
    with pytest.raises(TypeError, match="torch.nn.Module"):
        lv.resolve_layers("model", "0")


def test_check_images():
    x = torch.rand(2, 1, 5, 5)
    assert viz.check_images(x) is x
    with pytest.raises(ValueError, match=r"4-D batch \(N, C, H, W\), got shape \(1, 5, 5\): for one image use x.unsqueeze\(0\)"):
        viz.check_images(x[0])
    with pytest.raises(TypeError, match="floating point"):
        viz.check_images(torch.ones(1, 1, 2, 2, dtype=torch.long))
    with pytest.raises(TypeError, match="torch.Tensor"):
        viz.check_images(np.zeros((1, 1, 2, 2)))
    with pytest.raises(ValueError, match="1 channels, expected 3"):
        viz.check_images(torch.rand(1, 1, 2, 2), channels=3)
    with pytest.raises(ValueError, match="empty"):
        viz.check_images(torch.rand(0, 1, 2, 2))


def test_check_targets():
    assert viz.check_targets(2, 3, 5).tolist() == [2, 2, 2]
    assert viz.check_targets([0, 4], 2, 5).tolist() == [0, 4]
    assert viz.check_targets(torch.tensor([1, 0]), 2, 5).dtype == torch.long
    assert viz.check_targets(torch.tensor(3), 2, 5).tolist() == [3, 3]
    with pytest.raises(ValueError, match=r"target class 5 is out of range: the model has 5 classes \(valid indices 0..4\)"):
        viz.check_targets(5, 1, 5)
    with pytest.raises(ValueError, match="out of range"):
        viz.check_targets([0, -1], 2, 5)
    with pytest.raises(ValueError, match="got 3 targets for 2 images"):
        viz.check_targets([0, 1, 2], 2, 5)
    with pytest.raises(ValueError, match=r"\(N,\) tensor"):
        viz.check_targets(torch.zeros(2, 1, dtype=torch.long), 2, 5)
    with pytest.raises(TypeError, match="integer class indices"):
        viz.check_targets(torch.tensor([0.0]), 1, 5)
    with pytest.raises(TypeError):
        viz.check_targets(True, 1, 5)
    with pytest.raises(TypeError):
        viz.check_targets("cat", 1, 5)


# --------------------------------------------------------------------------- capture_activations
def test_capture_activations_values_and_shapes():
    m = _small_model().eval()
    x = torch.rand(2, 1, 6, 6)
    with torch.no_grad():
        want0 = m[0](x)
        want5 = m[:6](x)
    with lv.capture_activations(m, ["0", "5"]) as acts:
        out = m(x)
    assert set(acts) == {"0", "5"}
    assert acts["5"].shape == (2, 6, 6, 6)
    torch.testing.assert_close(acts["0"], want0)
    torch.testing.assert_close(acts["5"], want5)
    assert not acts["5"].requires_grad
    assert out.shape == (2, 3)


def test_capture_activations_keeps_last_forward_and_graph_when_asked():
    m = _small_model().eval()
    x1, x2 = torch.rand(1, 1, 4, 4), torch.rand(1, 1, 4, 4)
    with lv.capture_activations(m, "2", detach=False) as acts:
        m(x1)
        out = m(x2)
        a = acts["2"]
        assert a.requires_grad
        (g,) = torch.autograd.grad(out[0, 1], a)
    torch.testing.assert_close(a.detach(), m[:3](x2).detach())
    assert g.shape == a.shape and g.abs().sum() > 0


def test_capture_activations_sets_eval_and_restores_flags():
    m = _small_model()
    m.train()
    m[1].eval()  # a mixed state must come back exactly
    before = [mod.training for mod in m.modules()]
    seen = {}
    with lv.capture_activations(m, ["1"]):
        seen["inside"] = [mod.training for mod in m.modules()]
    assert not any(seen["inside"]), "mode='eval' must switch every submodule to eval inside the block"
    assert [mod.training for mod in m.modules()] == before
    with lv.capture_activations(m, ["1"], mode="train"):
        assert all(mod.training for mod in m.modules())
    with lv.capture_activations(m, ["1"], mode="keep"):
        assert [mod.training for mod in m.modules()] == before
    assert [mod.training for mod in m.modules()] == before


def test_capture_activations_eval_gives_deterministic_outputs():
    m = _small_model().train()
    x = torch.rand(4, 1, 6, 6)
    with lv.capture_activations(m, ["3"]) as acts:
        m(x)
        first = acts["3"].clone()
        m(x)
    torch.testing.assert_close(acts["3"], first)  # dropout off in eval mode


def test_capture_activations_removes_hooks_even_on_exception():
    m = _small_model()
    m.train()
    assert _all_hooks(m) == 0
    with pytest.raises(RuntimeError, match="boom"):
        with lv.capture_activations(m, ["0", "4"]):
            assert len(m[0]._forward_hooks) == 1 and len(m[4]._forward_hooks) == 1
            raise RuntimeError("boom")
    assert _all_hooks(m) == 0
    assert m.training and all(mod.training for mod in m.modules())
    # an exception inside the forward pass (wrong input) too
    with pytest.raises(RuntimeError):
        with lv.capture_activations(m, ["0"]):
            m(torch.rand(1, 3, 6, 6))
    assert _all_hooks(m) == 0 and m.training


def test_capture_activations_errors():
    m = _small_model()
    with pytest.raises(ValueError, match="not in the model"):
        with lv.capture_activations(m, ["nope"]):
            pass
    assert _all_hooks(m) == 0
    with pytest.raises(ValueError, match="mode must be one of"):
        with lv.capture_activations(m, ["0"], mode="inference"):
            pass
    assert _all_hooks(m) == 0
    with lv.capture_activations(m, ["0"]) as acts:
        with pytest.raises(KeyError, match="run the model inside"):
            acts["0"]
        with pytest.raises(KeyError, match="not one of the captured layers"):
            acts["1"]


class _TupleLayer(nn.Module):
    def forward(self, x):
        return x, x


class _WithTuple(nn.Module):
    def __init__(self):
        super().__init__()
        self.t = _TupleLayer()

    def forward(self, x):
        return self.t(x)[0]


def test_capture_activations_rejects_tuple_outputs():
    m = _WithTuple()
    with pytest.raises(TypeError, match="not a tensor"):
        with lv.capture_activations(m, ["t"]):
            m(torch.rand(1, 1, 2, 2))
    assert _all_hooks(m) == 0


# --------------------------------------------------------------------------- capture_gradients
def test_capture_gradients_matches_autograd():
    m = _small_model().eval()
    x = torch.rand(3, 1, 6, 6)
    # oracle: split the network by hand at layer 4 and differentiate
    a = m[:5](x).detach().requires_grad_(True)
    score = m[5:](a)[:, 2].sum()
    (want,) = torch.autograd.grad(score, a)
    with lv.capture_gradients(m, ["4"]) as rec:
        out = m(x)
        out[:, 2].sum().backward()
    assert rec.gradients["4"].shape == (3, 6, 6, 6)
    torch.testing.assert_close(rec.gradients["4"], want)
    torch.testing.assert_close(rec.activations["4"], a.detach())
    assert _all_hooks(m) == 0


def test_capture_gradients_with_autograd_grad_and_inplace_relu():
    torch.manual_seed(1)
    m = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(inplace=True), nn.Flatten(), nn.Linear(2 * 16, 2))
    x = torch.rand(2, 1, 4, 4, requires_grad=True)
    with lv.capture_gradients(m, ["0"]) as rec:
        out = m(x)
        torch.autograd.grad(out[:, 0].sum(), x)
    a = m[0](x).detach().requires_grad_(True)
    (want,) = torch.autograd.grad(m[1:](a.clone())[:, 0].sum(), a)
    torch.testing.assert_close(rec.gradients["0"], want)


def test_capture_gradients_under_no_grad_explains():
    m = _small_model()
    with lv.capture_gradients(m, ["4"]) as rec:
        with torch.no_grad():
            m(torch.rand(1, 1, 4, 4))
        assert "4" in rec.activations
        with pytest.raises(KeyError, match="no_grad"):
            rec.gradients["4"]
    assert _all_hooks(m) == 0


def test_capture_gradients_restores_state_on_exception():
    m = _small_model().train()
    with pytest.raises(ValueError):
        with lv.capture_gradients(m, ["0"]):
            assert not m.training
            raise ValueError("stop")
    assert m.training and _all_hooks(m) == 0


# --------------------------------------------------------------------------- maps and pointing game
def test_normalize_and_upsample_maps():
    m = torch.tensor([[[1.0, 3.0], [2.0, 5.0]], [[2.0, 2.0], [2.0, 2.0]]])
    n = viz.normalize_maps(m)
    torch.testing.assert_close(n[0], torch.tensor([[0.0, 0.5], [0.25, 1.0]]))
    assert torch.equal(n[1], torch.zeros(2, 2))
    up = viz.upsample_maps(m, 8)
    assert up.shape == (2, 8, 8)
    torch.testing.assert_close(up, F.interpolate(m[:, None], size=(8, 8), mode="bilinear", align_corners=False)[:, 0])
    assert viz.upsample_maps(m[:, None], (4, 6), mode="nearest").shape == (2, 4, 6)
    with pytest.raises(ValueError, match=r"\(N, H, W\).*unsqueeze"):
        viz.normalize_maps(torch.rand(4, 4))
    with pytest.raises(ValueError, match="NaN"):
        viz.normalize_maps(torch.tensor([[[float("nan")]]]))


def test_pointing_game_values():
    maps = torch.zeros(4, 10, 10)
    boxes = torch.tensor([[2, 2, 5, 5]] * 4)
    maps[0, 3, 4] = 1.0          # (x=4, y=3): inside
    maps[1, 5, 3] = 1.0          # y=5 is the exclusive edge: outside
    maps[2, 3, 3] = maps[2, 9, 9] = 1.0  # tie, one outside: miss
    # map 3 is constant: every pixel is a maximum -> miss
    hits = viz.pointing_game_hits(maps, boxes)
    assert hits.dtype == torch.bool and hits.tolist() == [True, False, False, False]
    assert viz.pointing_game(maps, boxes) == pytest.approx(0.25)
    # tolerance 1 grows the box by one pixel on each side: (3, 5) is now inside
    assert viz.pointing_game_hits(maps, boxes, tolerance=1).tolist() == [True, True, False, False]
    # a constant map hits only when the box is the whole image
    assert viz.pointing_game_hits(torch.ones(1, 3, 3), torch.tensor([[0, 0, 3, 3]])).tolist() == [True]


def test_pointing_game_against_argmax_oracle():
    g = torch.Generator().manual_seed(0)
    maps = torch.rand(50, 12, 12, generator=g)
    boxes = torch.tensor([[1, 2, 7, 9]] * 50)
    idx = maps.flatten(1).argmax(1)
    ys, xs = idx // 12, idx % 12
    want = ((xs >= 1) & (xs < 7) & (ys >= 2) & (ys < 9)).float().mean().item()
    assert viz.pointing_game(maps, boxes) == pytest.approx(want)
    assert 0.0 < want < 1.0


def test_pointing_game_errors():
    maps = torch.rand(2, 8, 8)
    with pytest.raises(ValueError, match="2 heat maps but 1 boxes"):
        viz.pointing_game(maps, torch.tensor([[0, 0, 2, 2]]))
    with pytest.raises(ValueError, match=r"boxes must be \(N, 4\)"):
        viz.pointing_game(maps, torch.zeros(2, 3))
    with pytest.raises(ValueError, match="x1 > x0"):
        viz.pointing_game(maps, torch.tensor([[3, 0, 3, 2], [0, 0, 2, 2]]))
    with pytest.raises(ValueError, match="inside the 8x8"):
        viz.pointing_game(maps, torch.tensor([[0, 0, 9, 2], [0, 0, 2, 2]]))
    with pytest.raises(ValueError, match=r"\(N, H, W\)"):
        viz.pointing_game(torch.rand(2, 3, 8, 8), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="tolerance"):
        viz.pointing_game(maps, torch.tensor([[0, 0, 2, 2]] * 2), tolerance=-1)


# --------------------------------------------------------------------------- deletion curve
class _PixelModel(nn.Module):
    """Logit of class 1 = 10 * (sum of pixel (0, 0) and (0, 1)); class 0 logit = 0."""

    def __init__(self):
        super().__init__()
        self.bn = nn.BatchNorm2d(1)  # only to see that the train flag comes back

    def forward(self, x):
        s = 10 * (x[:, 0, 0, 0] + x[:, 0, 0, 1])
        return torch.stack([torch.zeros_like(s), s], 1)


def test_deletion_curve_brute_force_oracle():
    torch.manual_seed(0)
    x = torch.rand(3, 1, 2, 2) + 0.5
    heat = torch.rand(3, 2, 2)
    model = _PixelModel().train()
    curve = viz.deletion_curve(model, x, heat, 1, steps=4, fill=0.0)
    assert model.training and model.bn.training
    assert curve.fractions.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert curve.scores.shape == (3, 5)
    want = torch.empty(3, 5)
    for i in range(3):
        order = sorted(range(4), key=lambda p: -float(heat[i].flatten()[p]))
        img = x[i].clone().flatten()
        for s in range(5):
            if s > 0:
                img[order[s - 1]] = 0.0
            logit = 10 * (img[0] + img[1])
            want[i, s] = torch.sigmoid(logit)  # softmax of (0, logit) for class 1
    torch.testing.assert_close(curve.scores, want)
    # AUC is the trapezoid rule on the mean curve
    m = want.mean(0)
    assert curve.auc == pytest.approx(float(((m[1:] + m[:-1]) / 2 * 0.25).sum()))
    torch.testing.assert_close(curve.per_image_auc, ((want[:, 1:] + want[:, :-1]) / 2 * 0.25).sum(1))


def test_deletion_curve_max_fraction():
    torch.manual_seed(0)
    x = torch.rand(2, 1, 4, 4) + 0.5
    heat = torch.rand(2, 4, 4)
    full = viz.deletion_curve(_PixelModel(), x, heat, 1, steps=16, fill=0.0)
    part = viz.deletion_curve(_PixelModel(), x, heat, 1, steps=4, max_fraction=0.25, fill=0.0)
    torch.testing.assert_close(part.fractions, full.fractions[:5])
    torch.testing.assert_close(part.scores, full.scores[:, :5])
    # normalized: the mean height of the curve, so a flat curve at p has AUC p
    flat = viz.DeletionCurve(torch.tensor([0.0, 0.1, 0.2]), torch.full((3, 3), 0.7))
    assert flat.auc == pytest.approx(0.7)


def test_deletion_curve_ranks_a_faithful_map_first():
    x = torch.full((2, 1, 4, 4), 0.4)
    model = _PixelModel()
    good = torch.zeros(2, 4, 4)
    good[:, 0, :2] = 1.0                  # the two pixels the model uses
    bad = 1.0 - good                      # everything else first
    c_good = viz.deletion_curve(model, x, good, [1, 1], steps=8, fill=0.0)
    c_bad = viz.deletion_curve(model, x, bad, [1, 1], steps=8, fill=0.0)
    assert c_good.auc < c_bad.auc - 0.3
    assert c_good.scores[0, -1] == pytest.approx(0.5)  # all deleted: logits (0, 0)
    # "mean" fill = each image's per-channel mean, here the constant itself: nothing changes
    c_mean = viz.deletion_curve(model, x, good, 1, steps=8)
    torch.testing.assert_close(c_mean.scores[:, 0], c_mean.scores[:, -1])


def test_deletion_curve_errors():
    model = _PixelModel()
    x = torch.rand(2, 1, 4, 4)
    with pytest.raises(ValueError, match="upsample"):
        viz.deletion_curve(model, x, torch.rand(2, 2, 2), 1)
    with pytest.raises(ValueError, match="4-D batch"):
        viz.deletion_curve(model, x[0], torch.rand(1, 4, 4), 1)
    with pytest.raises(ValueError, match="out of range"):
        viz.deletion_curve(model, x, torch.rand(2, 4, 4), 2)
    with pytest.raises(ValueError, match="steps"):
        viz.deletion_curve(model, x, torch.rand(2, 4, 4), 1, steps=0)
    with pytest.raises(ValueError, match="max_fraction"):
        viz.deletion_curve(model, x, torch.rand(2, 4, 4), 1, max_fraction=0)
    with pytest.raises(ValueError, match="fill"):
        viz.deletion_curve(model, x, torch.rand(2, 4, 4), 1, fill="median")


# --------------------------------------------------------------------------- other measures
def test_knn_accuracy():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 40)
    separable = rng.normal(size=(120, 5)) * 0.1 + np.eye(3, 5)[y] * 5
    assert viz.knn_accuracy(separable, y) == 1.0
    noise = rng.normal(size=(120, 5))
    assert viz.knn_accuracy(torch.tensor(noise), torch.tensor(y)) < 0.6
    with pytest.raises(ValueError, match=r"\(N, D\)"):
        viz.knn_accuracy(noise[:, 0], y)
    with pytest.raises(ValueError, match="labels"):
        viz.knn_accuracy(noise, y[:10])


def test_filter_roughness():
    torch.manual_seed(0)
    noise = torch.randn(64, 1, 9, 9)
    r = viz.filter_roughness(noise)
    assert r.shape == (64,)
    assert abs(float(r.mean()) - 1.0) < 0.1
    yy, xx = torch.meshgrid(torch.arange(9.0), torch.arange(9.0), indexing="ij")
    smooth = torch.exp(-((xx - 4) ** 2 + (yy - 4) ** 2) / 8)[None, None]
    assert float(viz.filter_roughness(smooth)) < 0.2
    checker = ((xx + yy) % 2 * 2 - 1)[None, None]
    assert float(viz.filter_roughness(checker)) == pytest.approx(2.0, rel=1e-3)
    with pytest.raises(ValueError, match="kH, kW >= 2"):
        viz.filter_roughness(torch.rand(2, 1, 1, 1))
    with pytest.raises(TypeError):
        viz.filter_roughness(np.zeros((1, 1, 3, 3)))


def test_gap_cnn_shapes_and_cam_identity():
    torch.manual_seed(0)
    m = viz.gap_cnn(in_channels=1, num_classes=5, width=4).eval()
    x = torch.rand(2, 1, 32, 32)
    with lv.capture_activations(m, "relu3") as acts:
        logits = m(x)
    assert logits.shape == (2, 5) and acts["relu3"].shape == (2, 16, 16, 16)
    # GAP then linear == spatial mean of the class activation map plus the bias
    cam = torch.einsum("ck,nkhw->nchw", m.fc.weight, acts["relu3"])
    torch.testing.assert_close(cam.mean((2, 3)) + m.fc.bias, logits)
    assert viz.gap_cnn(3, 10, 8, first_kernel=7).conv1.weight.shape == (8, 3, 7, 7)
    with pytest.raises(ValueError, match="odd"):
        viz.gap_cnn(first_kernel=4)
    with pytest.raises(ValueError, match="width"):
        viz.gap_cnn(width=0)


def test_train_shapes_cnn_small_run():
    from dlcourse import data

    shapes = data.make_shapes(40, 32, seed=0)
    model, hist = viz.train_shapes_cnn(shapes, epochs=1, val=shapes, batch_size=20, width=2, progress=False)
    assert len(hist) == 1 and "val_acc" in hist.keys()
    assert not model.training, "the trained model is returned in eval mode"
    assert model(shapes.images[:3]).shape == (3, 5)
    # same seed, same initialization
    a, _ = viz.train_shapes_cnn(shapes, epochs=0, width=2, seed=3)
    b, _ = viz.train_shapes_cnn(shapes, epochs=0, width=2, seed=3)
    torch.testing.assert_close(a.conv1.weight, b.conv1.weight)
    with pytest.raises(TypeError, match="ShapesData"):
        viz.train_shapes_cnn(shapes.dataset(), epochs=1)
    with pytest.raises(ValueError, match="epochs"):
        viz.train_shapes_cnn(shapes, epochs=-1)


# --------------------------------------------------------------------------- rule 3: what is public
EXERCISE_NAMES = ("resolve_layers", "capture_activations", "capture_gradients", "Captured", "GradientRecord",
                  "cam", "grad_cam", "saliency", "smoothgrad", "guided_backprop", "occlusion",
                  "layer_embeddings", "embeddings")


def test_public_viz_does_not_ship_the_assignment_3_exercises():
    public = set(viz.__all__) | {n for n in dir(viz) if not n.startswith("_")}
    leaked = [n for n in EXERCISE_NAMES if n in public]
    assert not leaked, f"dlcourse.viz exposes what assignment 3 asks students to write: {leaked}"
    assert not any(n.startswith("_lecture") for n in dir(viz)), "viz must not re-export the private module"
    assert not hasattr(lv, "__all__"), "the private module has no __all__ (no public API)"
    assert "assignments must not import" in lv.__doc__.lower()


# --------------------------------------------------------------------------- private heat-map methods vs Captum
def _captum_net(seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    return viz.gap_cnn(in_channels=3, num_classes=4, width=3, first_kernel=3).eval()


def _flags(m: nn.Module) -> list[bool]:
    return [s.training for s in m.modules()]


def _no_param_grads(m: nn.Module) -> bool:
    return all(p.grad is None for p in m.parameters())


def test_grad_cam_matches_captum_at_two_layers():
    from captum.attr import LayerAttribution, LayerGradCam

    m = _captum_net(1)
    x = torch.rand(3, 3, 12, 12, generator=torch.Generator().manual_seed(0))
    t = torch.tensor([1, 0, 3])
    for name in ("relu2", "relu3"):
        raw = LayerGradCam(m, dict(m.named_modules())[name]).attribute(x, target=t, relu_attributions=False)
        want = LayerAttribution.interpolate(F.relu(raw), (12, 12), interpolate_mode="bilinear")[:, 0]
        m.zero_grad(set_to_none=True)
        m.train()
        got = lv.grad_cam(m, x, t, layer=name)
        assert got.shape == (3, 12, 12)
        torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-4)
        assert all(_flags(m)) and _no_param_grads(m) and _all_hooks(m) == 0
        m.eval()


def test_cam_equals_grad_cam_times_positions_for_a_gap_network():
    m = _captum_net(2)
    x = torch.rand(2, 3, 12, 12)
    with lv.capture_activations(m, "relu3") as acts:
        m(x)
    low = torch.einsum("nk,nkhw->nhw", m.fc.weight[[0, 2]], acts["relu3"])      # (2, 6, 6) for 12x12 inputs
    c, g = lv.cam(m, x, [0, 2]), lv.grad_cam(m, x, [0, 2], layer="relu3")
    torch.testing.assert_close(c, viz.upsample_maps(low, 12))
    torch.testing.assert_close(g, viz.upsample_maps(F.relu(low) / (6 * 6), 12), atol=1e-6, rtol=1e-4)


def test_saliency_and_guided_backprop_match_captum():
    from captum.attr import GuidedBackprop, Saliency

    m = _captum_net(3)
    x = torch.rand(2, 3, 12, 12, generator=torch.Generator().manual_seed(1))
    want = Saliency(m).attribute(x.clone().requires_grad_(True), target=torch.tensor([2, 1]), abs=True).amax(1)
    want_gb = GuidedBackprop(m).attribute(x.clone().requires_grad_(True), target=torch.tensor([2, 1])).abs().amax(1)
    m.zero_grad(set_to_none=True)
    torch.testing.assert_close(lv.saliency(m, x, [2, 1]), want)
    got_gb = lv.guided_backprop(m, x, [2, 1])
    torch.testing.assert_close(got_gb, want_gb)
    assert not torch.allclose(got_gb, want), "guided backprop must differ from plain saliency"
    assert _no_param_grads(m) and _all_hooks(m) == 0
    with pytest.raises(ValueError, match="nn.ReLU"):
        lv.guided_backprop(nn.Sequential(nn.Flatten(), nn.Linear(3 * 144, 2)), x, 0)


def test_smoothgrad_is_the_mean_saliency_of_noisy_copies_and_seeded():
    m = _captum_net(4)
    x = torch.rand(2, 3, 12, 12)
    one = lv.smoothgrad(m, x, 1, samples=1, noise=0.0)
    torch.testing.assert_close(one, lv.saliency(m, x, 1))
    a = lv.smoothgrad(m, x, 1, samples=4, noise=0.2, seed=5)
    torch.testing.assert_close(a, lv.smoothgrad(m, x, 1, samples=4, noise=0.2, seed=5))
    gen = torch.Generator().manual_seed(5)
    sigma = 0.2 * (x.flatten(1).amax(1) - x.flatten(1).amin(1)).view(-1, 1, 1, 1)
    want = sum(lv.saliency(m, x + sigma * torch.randn(x.shape, generator=gen), 1) for _ in range(4)) / 4
    torch.testing.assert_close(a, want)
    with pytest.raises(ValueError, match="samples"):
        lv.smoothgrad(m, x, 1, samples=0)


def test_occlusion_matches_captum_with_clipped_last_window():
    from captum.attr import Occlusion

    m = _captum_net(5)
    x = torch.rand(2, 3, 12, 12, generator=torch.Generator().manual_seed(2))
    for patch, stride, fill, tgt in [(4, 2, 0.0, [1, 3]), (5, 3, 0.5, 2), (3, 1, 0.0, [0, 0])]:
        t = torch.tensor(tgt) if isinstance(tgt, list) else tgt
        want = Occlusion(m).attribute(x, sliding_window_shapes=(3, patch, patch), strides=(3, stride, stride),
                                      baselines=fill, target=t)[:, 0]
        for bs in (7, 4096):
            got = lv.occlusion(m, x, tgt, patch=patch, stride=stride, fill=fill, batch_size=bs)
            assert got.shape == (2, 12, 12) and got.dtype == torch.float32
            torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-4)
    assert lv.occlusion_starts(12, 5, 3) == [0, 3, 6, 9]   # the last window (9..13) is clipped
    with pytest.raises(ValueError, match="skip pixels"):
        lv.occlusion(m, x, 0, patch=2, stride=3)
    with pytest.raises(ValueError, match="does not fit"):
        lv.occlusion(m, x, 0, patch=13, stride=1)


def test_embeddings_top_activating_and_dead_channels():
    m = _captum_net(6)
    x = torch.rand(9, 3, 12, 12)
    with torch.no_grad():
        want = m.relu1(m.bn1(m.conv1(x)))
    emb = lv.layer_embeddings(m, "relu1", x, batch_size=4)
    torch.testing.assert_close(emb, want.flatten(1))
    maxima = lv.channel_maxima(m, "relu1", x, batch_size=2)
    torch.testing.assert_close(maxima, want.amax((2, 3)))
    idx, vals = lv.top_activating(maxima, 1, k=3)
    assert idx.tolist() == want[:, 1].amax((1, 2)).argsort(descending=True)[:3].tolist()
    assert (vals[:-1] >= vals[1:]).all()
    with torch.no_grad():
        m.conv1.bias[2] = -1e3                     # channel 2 can never fire: a dead filter
    act = lv.channel_activity(lv.channel_maxima(m, "relu1", x))
    assert act[2] == 0 and act.shape == (3,)
    with pytest.raises(ValueError, match="unit"):
        lv.top_activating(maxima, 3)


# --------------------------------------------------------------------------- new public helpers
def test_insertion_curve_oracle_and_output_modes():
    x = torch.full((1, 1, 2, 2), 0.5)
    x[0, 0, 0, 0] = 1.0
    heat = torch.tensor([[[4.0, 3.0], [2.0, 1.0]]])
    model = _PixelModel()
    c = viz.insertion_curve(model, x, heat, 1, steps=4, fill=0.0, output="logit")
    # inserted in the map's order: (0,0) -> 10*1, then (0,1) -> 10*(1 + .5); the rest do not count
    torch.testing.assert_close(c.scores[0], torch.tensor([0.0, 10.0, 15.0, 15.0, 15.0]))
    d = viz.deletion_curve(model, x, heat, 1, steps=4, fill=0.0, output="sigmoid")
    torch.testing.assert_close(d.scores[0], torch.sigmoid(torch.tensor([15.0, 5.0, 0.0, 0.0, 0.0])))
    blur = viz.insertion_curve(model, x, heat, 1, steps=1, output="logit")   # default fill: a blurred copy
    assert blur.scores[0, 0] < blur.scores[0, 1] == pytest.approx(15.0)
    with pytest.raises(ValueError, match="output"):
        viz.insertion_curve(model, x, heat, 1, output="prob")


def test_baseline_maps_and_rank_correlation():
    x = torch.zeros(2, 1, 16, 16)
    x[0, 0, 2:6, 2:6] = 1.0                        # a bright square
    x[1, 0] = 1.0
    x[1, 0, 9:13, 9:13] = 0.0                      # a dark square on a bright background
    box = torch.tensor([[2, 2, 6, 6], [9, 9, 13, 13]])
    b = viz.baseline_maps(x, "brightness")
    assert b.shape == (2, 16, 16) and viz.pointing_game_hits(b, box).tolist() == [True, False]
    e = viz.baseline_maps(x, "edges")              # contrast of either sign
    assert viz.pointing_game_hits(e, box, tolerance=1).tolist() == [True, True]
    c = viz.baseline_maps(x, "centre")
    assert c[0].argmax() in (7 * 16 + 7, 7 * 16 + 8, 8 * 16 + 7, 8 * 16 + 8)
    r1, r2 = viz.baseline_maps(x, "random", seed=1), viz.baseline_maps(x, "random", seed=1)
    torch.testing.assert_close(r1, r2)
    with pytest.raises(ValueError, match="kind"):
        viz.baseline_maps(x, "sobel")
    from scipy.stats import spearmanr

    a, bb = torch.rand(3, 5, 5), torch.rand(3, 5, 5)
    got = viz.rank_correlation(a, bb)
    want = [spearmanr(a[i].flatten(), bb[i].flatten()).statistic for i in range(3)]
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-6)
    assert viz.rank_correlation(a, a).tolist() == pytest.approx([1.0] * 3)
    assert viz.rank_correlation(a, torch.ones(3, 5, 5)).tolist() == [0.0] * 3


def test_nearest_neighbours():
    db = torch.tensor([[1.0, 0], [0, 1], [0.9, 0.1], [-1, 0]])
    idx, dist = viz.nearest_neighbours(db[:1], db, k=2)
    assert idx.tolist() == [[0, 2]] and dist[0, 0] == pytest.approx(0.0, abs=1e-6)
    idx, _ = viz.nearest_neighbours(db, db, k=1, exclude_self=True, metric="euclidean")
    assert idx[:, 0].tolist() == [2, 2, 0, 1] or idx[:, 0].tolist()[0] == 2
    with pytest.raises(ValueError, match="k must be"):
        viz.nearest_neighbours(db, db, k=4, exclude_self=True)


def test_pretrained_resnet18_from_a_local_weights_file(tmp_path):
    from torchvision.models import resnet18

    torch.manual_seed(0)
    ref = resnet18()
    path = tmp_path / "resnet18.pth"
    torch.save(ref.state_dict(), path)
    pre = viz.pretrained_resnet18(path)
    assert "local weights file" in pre.source and len(pre.categories) == 1000
    assert not pre.model.training
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(pre.model(pre.normalize(x)), ref.eval()(pre.normalize(x)))
    bad = tmp_path / "bad.pth"
    torch.save({"fc.weight": torch.zeros(3, 3)}, bad)
    with pytest.raises(ValueError, match="ResNet-18"):
        viz.pretrained_resnet18(bad)
    with pytest.raises(FileNotFoundError):
        viz.pretrained_resnet18(tmp_path / "missing.pth")


def test_pretrained_resnet18_offline_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    with pytest.raises(viz.WeightsUnavailable, match="download=False"):
        viz.pretrained_resnet18(download=False)


# --------------------------------------------------------------------------- scenes and the benchmark
def test_make_shape_scenes_boxes_polarity_and_seed():
    from dlcourse import data

    s = data.make_shape_scenes(60, 36, seed=3)
    assert s.images.shape == (60, 1, 36, 36) and s.images.dtype == torch.float32
    assert s.labels.shape == (60, 2) and s.boxes.shape == (60, 2, 4) and s.polarity.shape == (60, 2)
    assert (s.labels[:, 0] != s.labels[:, 1]).all(), "target and distractor must be of different classes"
    assert 0.0 <= float(s.images.min()) and float(s.images.max()) <= 1.0
    b = s.boxes
    assert ((b[..., 2] > b[..., 0]) & (b[..., 3] > b[..., 1])).all() and (b >= 0).all() and (b <= 36).all()
    apart = (b[:, 0, 2] + 2 <= b[:, 1, 0]) | (b[:, 1, 2] + 2 <= b[:, 0, 0]) | \
            (b[:, 0, 3] + 2 <= b[:, 1, 1]) | (b[:, 1, 3] + 2 <= b[:, 0, 1])
    assert apart.all(), "the two boxes must not overlap (at least `gap` pixels apart)"
    assert set(s.polarity.unique().tolist()) == {-1, 1}
    # the sign is the object's contrast: its pixels are on that side of the background level
    for i in range(10):
        for j in range(2):
            x0, y0, x1, y1 = s.boxes[i, j].tolist()
            inside = s.images[i, 0, y0:y1, x0:x1]
            bg = s.images[i, 0].median()
            extreme = inside.max() if s.polarity[i, j] > 0 else inside.min()
            assert (extreme - bg) * s.polarity[i, j] > 0.1
    torch.testing.assert_close(data.make_shape_scenes(5, 36, seed=3).images, s.images[:5])
    assert not torch.equal(data.make_shape_scenes(5, 36, seed=4).images, s.images[:5])
    y = s.multi_hot()
    assert y.shape == (60, 5) and (y.sum(1) == 2).all()
    assert data.make_shape_scenes(4, 48, objects=3, channels=3).images.shape == (4, 3, 48, 48)
    with pytest.raises(ValueError, match="objects"):
        data.make_shape_scenes(4, 36, objects=6)
    with pytest.raises(ValueError, match="could not place"):
        data.make_shape_scenes(4, 24, objects=5, min_radius=6, max_radius=8)
    with pytest.raises(ValueError, match="size"):
        data.make_shape_scenes(4, 16)


def test_model_free_baselines_cannot_tell_target_from_distractor():
    from dlcourse import data

    s = data.make_shape_scenes(400, 36, seed=0)
    for kind in ("brightness", "edges", "centre", "random"):
        pg = viz.pointing_game(viz.baseline_maps(s.images, kind), s.boxes[:, 0])
        assert pg <= 0.6, f"{kind} finds the target in {pg:.0%} of the scenes: the scenes leak the target"


def test_train_scenes_cnn_and_benchmark_smoke():
    from dlcourse import data

    s = data.make_shape_scenes(48, 36, seed=0)
    model, hist = viz.train_scenes_cnn(s, epochs=1, val=s, width=2, batch_size=16, progress=False)
    assert not model.training and "val_acc" in hist.keys() and 0.0 <= hist.last["val_acc"] <= 1.0
    rnd, _ = viz.train_scenes_cnn(s, epochs=0, width=2, seed=1)
    res = lv.faithfulness_benchmark(model, rnd, s, n_eval=6, occlusion_patch=12, occlusion_stride=12,
                                    smoothgrad_samples=2, curve_steps=2, curve_n=3)
    names = [r["name"] for r in res["rows"]]
    for needed in ("Grad-CAM relu3", "Grad-CAM, other class", "Grad-CAM, randomized model", *lv.MODEL_FREE):
        assert needed in names
    for r in res["rows"]:
        assert 0 <= r["pointing_game"] <= 1 and 0 <= r["on_distractor"] <= 1
        assert 0 <= r["deletion_auc"] <= 1 and 0 <= r["insertion_auc"] <= 1
    assert res["maps"]["Grad-CAM relu3"].shape == (6, 36, 36) and res["curve_n"] == 3
    assert -1 <= res["rank_correlation_randomized"] <= 1
    assert "pointing game" in lv.format_benchmark_table(res["rows"])
    with pytest.raises(TypeError, match="ShapeScenes"):
        viz.train_scenes_cnn(data.make_shapes(10), epochs=0)
    with pytest.raises(ValueError, match="unknown methods"):
        lv.faithfulness_benchmark(model, rnd, s, methods=["GradCAM"])


def test_committed_benchmark_results_hold_every_row_and_their_goals():
    """bench/results/*.json (the README's and lecture 4's numbers) list every map and agree with their goals."""
    import json
    from pathlib import Path

    results = sorted((Path(__file__).resolve().parents[1] / "bench" / "results").glob("pointing_game*.json"))
    if not results:
        pytest.skip("no committed benchmark results")
    needed = {"Grad-CAM relu3", "Grad-CAM relu2", "saliency", "SmoothGrad", "guided backprop",
              "Grad-CAM, other class", "Grad-CAM, randomized model", *lv.MODEL_FREE}
    for path in results:
        rec = json.loads(path.read_text())
        rows = {r["name"]: r for r in rec["rows"]}
        assert needed <= set(rows), f"{path.name}: missing rows {needed - set(rows)}"
        assert any(n.startswith("occlusion") for n in rows)
        g = rec["goals"]
        assert g["grad_cam_pointing_game"]["value"] == rows["Grad-CAM relu3"]["pointing_game"]
        assert g["best_model_free_baseline"]["value"] == max(rows[n]["pointing_game"] for n in lv.MODEL_FREE)
        assert g["grad_cam_other_class_on_distractor"]["value"] == rows["Grad-CAM, other class"]["on_distractor"]
        assert g["grad_cam_pointing_game"]["met"] == (rows["Grad-CAM relu3"]["pointing_game"] >= 0.85)
        assert rec["config"] == lv.BENCH_CONFIG[rec["mode"]], f"{path.name} was made with other sizes: rerun the bench"
