"""Unit tests of dlcourse.rf_explorer (the receptive-field / output-size explorer) and the plots of
dlcourse.plotting.receptive_fields; the design checklist's are in test_checklist.py. Oracles: PyTorch layers run on tensors, and dlcourse.arch's gradient
measurement; no analytic formula is trusted here."""
from __future__ import annotations

import base64
import inspect

import numpy as np

import matplotlib
import pytest
import torch
from matplotlib.figure import Figure
from torch import nn

matplotlib.use("Agg")

from dlcourse import arch, plotting, rf_explorer  # noqa: E402
from dlcourse.plotting import receptive_fields as rf_plots  # noqa: E402


def _torch_sizes(settings: rf_explorer.ExplorerSettings) -> list[int]:
    """Output side after each layer, from plain nn layers run on a tensor (independent of rf_explorer)."""
    x = torch.zeros(1, 1, settings.input_size, settings.input_size)
    sizes = [settings.input_size]
    for _ in range(settings.depth):
        layers = [nn.Conv2d(1, 1, settings.kernel_size, settings.stride, settings.padding, settings.dilation)]
        if settings.pool:
            layers.append(nn.MaxPool2d(2, 2))
        for layer in layers:
            try:
                x = layer(x)
            except RuntimeError:
                return sizes
            sizes.append(x.shape[-1])
    return sizes


# --------------------------------------------------------------------------- rf_explorer
class TestExplorerSettings:
    def test_defaults_are_the_lecture_stack(self):
        s = rf_explorer.ExplorerSettings()
        assert (s.kernel_size, s.stride, s.padding, s.dilation, s.depth, s.pool) == (3, 1, 1, 1, 3, False)
        assert "3 x conv 3x3" in s.label()

    @pytest.mark.parametrize("kw", [dict(kernel_size=0), dict(stride=0), dict(padding=-1), dict(dilation=0),
                                    dict(depth=0), dict(depth=13), dict(input_size=0)])
    def test_bad_values_raise_valueerror(self, kw):
        with pytest.raises(ValueError, match=list(kw)[0]):
            rf_explorer.ExplorerSettings(**kw)

    @pytest.mark.parametrize("kw", [dict(kernel_size=3.0), dict(stride="2"), dict(depth=True), dict(pool=1)])
    def test_bad_types_raise_typeerror(self, kw):
        with pytest.raises(TypeError, match=list(kw)[0]):
            rf_explorer.ExplorerSettings(**kw)


class TestConvStack:
    def test_layers_follow_the_settings(self):
        s = rf_explorer.ExplorerSettings(kernel_size=5, stride=2, padding=1, dilation=2, depth=2, pool=True)
        model = rf_explorer.conv_stack(s, channels=3)
        kinds = [type(m).__name__ for m in model]
        assert kinds == ["Conv2d", "MaxPool2d", "Conv2d", "MaxPool2d"]
        conv = model[0]
        assert (conv.kernel_size, conv.stride, conv.padding, conv.dilation) == ((5, 5), (2, 2), (1, 1), (2, 2))
        assert conv.in_channels == conv.out_channels == 3

    def test_ones_and_avg_pool(self):
        model = rf_explorer.conv_stack(rf_explorer.ExplorerSettings(pool=True, depth=1), pool="avg", ones=True)
        assert isinstance(model[1], nn.AvgPool2d)
        assert model[0].bias is None and torch.all(model[0].weight == 1)

    def test_bad_arguments(self):
        with pytest.raises(TypeError):
            rf_explorer.conv_stack({"kernel_size": 3})
        with pytest.raises(ValueError, match="pool"):
            rf_explorer.conv_stack(rf_explorer.ExplorerSettings(), pool="min")
        with pytest.raises(ValueError, match="channels"):
            rf_explorer.conv_stack(rf_explorer.ExplorerSettings(), channels=0)


class TestGradientMap:
    def test_three_3x3_see_7x7_and_centre_counts_most_paths(self):
        model = rf_explorer.conv_stack(rf_explorer.ExplorerSettings(depth=3), ones=True)
        g = rf_explorer.gradient_map(model, (1, 21, 21))
        assert g.shape == (21, 21)
        ys, xs = torch.nonzero(g, as_tuple=True)
        assert (ys.max() - ys.min() + 1, xs.max() - xs.min() + 1) == (7, 7)
        assert g.max() == g[10, 10], "with all-ones weights the centre pixel has the most paths"
        # paths through three 3x3 kernels: 1, 3, 6, 7, 6, 3, 1 per axis
        torch.testing.assert_close(g[10, 7:14], torch.tensor([1., 3., 6., 7., 6., 3., 1.]) * 7)

    def test_empty_output_is_a_valueerror(self):
        model = rf_explorer.conv_stack(rf_explorer.ExplorerSettings(kernel_size=7, padding=0, depth=2))
        with pytest.raises(ValueError, match="cannot run"):
            rf_explorer.gradient_map(model, (1, 8, 8))

    def test_model_flag_restored(self):
        model = rf_explorer.conv_stack(rf_explorer.ExplorerSettings())
        model.train()
        rf_explorer.gradient_map(model, (1, 16, 16))
        assert model.training

    def test_bad_input_shape(self):
        with pytest.raises(ValueError, match=r"\(C, H, W\)"):
            rf_explorer.gradient_map(nn.Conv2d(1, 1, 3), (16, 16))
        with pytest.raises(TypeError):
            rf_explorer.gradient_map(lambda x: x, (1, 8, 8))


SETTINGS = [
    rf_explorer.ExplorerSettings(),
    rf_explorer.ExplorerSettings(pool=True, input_size=30),
    rf_explorer.ExplorerSettings(kernel_size=5, stride=2, padding=2, dilation=1, depth=3, input_size=33),
    rf_explorer.ExplorerSettings(kernel_size=3, stride=1, padding=0, dilation=2, depth=4, input_size=20),
    rf_explorer.ExplorerSettings(kernel_size=7, stride=3, padding=1, dilation=1, depth=3, pool=True, input_size=40),
]


class TestMeasureStack:
    @pytest.mark.parametrize("s", SETTINGS, ids=lambda s: s.label())
    def test_sizes_match_pytorch_layers(self, s):
        m = rf_explorer.measure_stack(s)
        assert m.sizes == _torch_sizes(s)
        n_layers = s.depth * (2 if s.pool else 1)
        assert (m.error is None) == (len(m.sizes) == n_layers + 1)
        assert m.output_size == (None if m.error else m.sizes[-1])

    @pytest.mark.parametrize("s", SETTINGS, ids=lambda s: s.label())
    def test_fields_match_arch_gradient_measurement(self, s):
        """Compare with dlcourse.arch.empirical_receptive_field on random-weight layers
        (average pooling so every pixel of a window gets gradient)."""
        m = rf_explorer.measure_stack(s)
        assert not m.cut
        torch.manual_seed(0)
        model = rf_explorer.conv_stack(s, pool="avg")
        for i, field in enumerate(m.receptive_fields[1:], start=1):
            size = max(64, 2 * field + 8)
            assert arch.empirical_receptive_field(model[:i], (1, size, size)) == (field, field)

    def test_growth_three_3x3_and_pooling(self):
        assert rf_explorer.measure_stack(rf_explorer.ExplorerSettings()).receptive_fields == [1, 3, 5, 7]
        # a 2/2 pool after each conv: the field grows by 1 at the first pool, then twice as fast
        assert rf_explorer.measure_stack(rf_explorer.ExplorerSettings(depth=2, pool=True)).receptive_fields == [1, 3, 4, 8, 10]

    def test_impossible_size_is_reported_with_the_layer(self):
        m = rf_explorer.measure_stack(rf_explorer.ExplorerSettings(kernel_size=5, padding=0, depth=4, input_size=12))
        assert m.error is not None and m.error.startswith("conv3")
        assert m.sizes == [12, 8, 4] and m.output_size is None
        assert m.receptive_fields == [1, 5, 9, 13, 17], "fields are measured on a canvas, not on the small input"

    def test_huge_field_is_cut_not_an_error(self):
        s = rf_explorer.ExplorerSettings(kernel_size=7, stride=3, padding=0, dilation=3, depth=6, pool=True, input_size=8)
        m = rf_explorer.measure_stack(s)
        assert m.cut and m.error is not None
        assert all(b > a for a, b in zip(m.receptive_fields, m.receptive_fields[1:]))


class TestDrawAndExplorer:
    def test_draw_returns_a_labelled_figure(self):
        fig = plotting.plot_explorer(rf_explorer.measure_stack(rf_explorer.ExplorerSettings(pool=True, input_size=30)))
        try:
            assert isinstance(fig, Figure)
            axes = fig.axes
            assert len(axes) == 2
            for ax in axes:
                assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
            assert "22x22" in axes[0].get_title()
            assert "output 3 px" in axes[1].get_title()
        finally:
            matplotlib.pyplot.close(fig)

    def test_draw_marks_an_impossible_stack(self):
        fig = plotting.plot_explorer(rf_explorer.measure_stack(
            rf_explorer.ExplorerSettings(kernel_size=5, stride=2, depth=4, padding=0, input_size=20)))
        try:
            assert "cannot run" in fig.axes[1].get_title()
        finally:
            matplotlib.pyplot.close(fig)

    def test_draw_rejects_unknown_settings(self):
        with pytest.raises(TypeError):
            rf_explorer.explorer(kernel=3, static=True)
        with pytest.raises(TypeError, match="StackMeasurement"):
            plotting.plot_explorer(rf_explorer.ExplorerSettings())

    def test_draw_into_a_given_figure(self):
        fig = plotting.figure(figsize=(8, 3))
        m = rf_explorer.measure_stack(rf_explorer.ExplorerSettings(depth=2))
        assert plotting.plot_explorer(m, fig=fig) is fig and len(fig.axes) == 2
        assert plotting.plot_explorer(m, fig=fig) is fig and len(fig.axes) == 2  # redrawn, not added

    def test_static_in_fast_mode_and_outside_a_kernel(self, monkeypatch):
        monkeypatch.setenv("DLCOURSE_FAST", "1")
        out = rf_explorer.explorer(depth=2)
        assert isinstance(out, Figure)
        matplotlib.pyplot.close(out)
        monkeypatch.setenv("DLCOURSE_FAST", "0")
        out = rf_explorer.explorer(depth=2)  # pytest has no IPython kernel
        assert isinstance(out, Figure)
        matplotlib.pyplot.close(out)

    def test_live_explorer_redraws_and_has_a_png_fallback(self):
        pytest.importorskip("ipywidgets")
        ex = rf_explorer.explorer(rf_explorer.ExplorerSettings(depth=2), static=False)
        assert isinstance(ex, rf_explorer.Explorer)
        first = ex._png
        assert first.startswith(b"\x89PNG")
        ex.controls["kernel_size"].value = 5  # a change redraws
        assert ex.settings.kernel_size == 5 and ex._png != first
        bundle = ex._repr_mimebundle_()
        assert "application/vnd.jupyter.widget-view+json" in bundle
        assert base64.b64decode(bundle["image/png"]).startswith(b"\x89PNG")
        assert "kernel" not in bundle["text/plain"] or "5x5" in bundle["text/plain"]
        # an invalid combination shows a message instead of raising inside the callback
        ex.controls["input_size"].value = 4
        ex.controls["kernel_size"].value = 7
        assert ex.settings.kernel_size == 7

    def test_no_analytic_formulas_in_the_module(self):
        """DESIGN rule 3: the explorer measures; the arithmetic is the students' job."""
        for module in (rf_explorer, rf_plots):
            src = inspect.getsource(module)
            for forbidden in ("// stride", "/ stride", "+ 2 * padding", "2 * settings.padding", "dilation * (",
                              "kernel_size - 1) *"):
                assert forbidden not in src, f"{module.__name__} contains an analytic formula ({forbidden!r})"


# --------------------------------------------------------------------------- static receptive-field figures
class TestStackedFieldMap:
    @pytest.mark.parametrize("depth", [1, 2, 3, 4])
    def test_field_matches_the_gradient_measurement_of_arch(self, depth):
        fmap = rf_explorer.stacked_field_map(depth)
        stack = nn.Sequential(*[nn.Conv2d(1, 1, 3, padding=1) for _ in range(depth)])
        with torch.no_grad():
            for conv in stack:
                conv.weight.abs_()
        side = fmap.grad.shape[-1]
        assert fmap.field == arch.empirical_receptive_field(stack, (1, side, side))
        assert fmap.field == (2 * depth + 1, 2 * depth + 1)  # 3, 5, 7, 9: the notes' "2x3" is an erratum

    def test_paths_are_counted(self):
        fmap = rf_explorer.stacked_field_map(2)
        c = fmap.grad.shape[-1] // 2
        assert fmap.grad[c, c] == 9  # 3x3 units of layer 1 each read the centre pixel
        assert fmap.grad[c - 2, c - 2] == 1  # a corner of the 5x5 field has one path

    def test_dilation_and_bad_kernels(self):
        assert rf_explorer.stacked_field_map(2, 3, dilation=2).field == (9, 9)
        with pytest.raises(ValueError, match="odd"):
            rf_explorer.stacked_field_map(2, 4)

    def test_plot_returns_a_detached_figure_with_the_field(self):
        import matplotlib.pyplot as plt

        before = plt.get_fignums()
        fig = plotting.plot_field_map(rf_explorer.stacked_field_map(3))
        assert isinstance(fig, Figure) and plt.get_fignums() == before
        ax = fig.axes[0]
        assert "7x7" in ax.get_title()
        assert any(t.get_text() == "49" for t in ax.texts)  # centre pixel of three 3x3 convs: 7 x 7 paths
        with pytest.raises(TypeError):
            plotting.plot_field_map("not a map")


class TestFieldPyramid:
    def test_counts_per_level(self):
        assert rf_explorer.field_pyramid(3, 3).counts == [7, 5, 3, 1]
        assert rf_explorer.field_pyramid(2, 5).counts == [9, 5, 1]
        dilated = rf_explorer.field_pyramid(2, 3, dilation=2)
        assert dilated.counts == [5, 3, 1]  # a 9-pixel span with holes: every other pixel
        assert np.nonzero(dilated.reach[0])[0].tolist() == [dilated.reach[0].size // 2 + o for o in (-4, -2, 0, 2, 4)]

    def test_bad_arguments(self):
        with pytest.raises(ValueError, match="depth"):
            rf_explorer.field_pyramid(0)
        with pytest.raises(ValueError, match="odd"):
            rf_explorer.field_pyramid(2, 2)

    def test_plot(self):
        fig = plotting.plot_field_pyramid(rf_explorer.field_pyramid(3))
        ax = fig.axes[0]
        assert "7 input pixels" in ax.get_title()
        labels = {t.get_text() for t in ax.texts}
        assert {"input", "layer 1", "layer 3", "7 units", "1 unit"} <= labels


class TestStackPattern:
    def test_tokens_follow_the_pattern(self):
        kinds = [k for k, _ in rf_explorer.stack_pattern_tokens(2, 3, 1)]
        assert kinds == ["INPUT"] + (["CONV", "RELU"] * 2 + ["POOL"]) * 3 + ["FC", "RELU", "FC"]
        assert [k for k, _ in rf_explorer.stack_pattern_tokens(1, 2, 0, pool=False)] == ["INPUT", "CONV", "RELU", "CONV", "RELU", "FC"]
        groups = {g for _, g in rf_explorer.stack_pattern_tokens(1, 2, 2)}
        assert groups == {"input", "stage 1", "stage 2", "hidden", "output"}

    @pytest.mark.parametrize("kw,exc", [(dict(n=4, m=1, k=0), ValueError), (dict(n=1, m=-1, k=0), ValueError),
                                        (dict(n=1.0, m=1, k=0), TypeError), (dict(n=1, m=1, k=True), TypeError)])
    def test_bad_counts(self, kw, exc):
        with pytest.raises(exc):
            rf_explorer.stack_pattern_tokens(**kw)

    def test_plot_one_box_per_layer(self):
        fig = plotting.plot_stack_pattern(rf_explorer.stack_pattern_tokens(2, 3, 1))
        ax = fig.axes[0]
        assert sum(t.get_text() == "CONV" for t in ax.texts) == 6
        assert sum(t.get_text() == "POOL" for t in ax.texts) == 3
        assert "18 layers" in ax.get_title()
