"""dlcourse.plotting: every plot returns a detached Figure, draws into a given Axes / Figure, only draws
(the package imports nothing of dlcourse but the internal core), and checks its input."""
from __future__ import annotations

import ast
import inspect
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from dlcourse import diagrams, plotting, rf_explorer, viz  # noqa: E402
from dlcourse.audio import diagrams as audio_diagrams  # noqa: E402
from dlcourse.audio import features  # noqa: E402

PLOTS = Path(plotting.__file__).parent


def _title(fig):
    return fig._suptitle.get_text() if fig._suptitle is not None else fig.axes[0].get_title()


def _examples():
    """One call of every public plot, as (name, function, args, kwargs)."""
    torch.manual_seed(0)
    imgs = torch.rand(2, 1, 8, 8)
    p = features.FeatureParams()
    wave = torch.randn(p.clip_samples)
    lenet = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(72, 3))
    curve = viz.DeletionCurve(torch.linspace(0, 1, 5), torch.rand(3, 5))
    return [
        ("plot_history", plotting.plot_history, ({"train_loss": [1.0, 0.5], "val_loss": [1.1, 0.7]},), {}),
        ("plot_confusion_matrix", plotting.plot_confusion_matrix, ([0, 1, 1, 2], [0, 1, 2, 2], ["a", "b", "c"]), {}),
        ("plot_bars", plotting.plot_bars, (["x", "y"], [1.0, 2.0]), {"title": "t"}),
        ("plot_image_grid", plotting.plot_image_grid, (torch.rand(5, 1, 8, 8), list("abcde")), {"title": "t"}),
        ("plot_feature_maps", plotting.plot_feature_maps, (torch.rand(1, 3, 6, 6),), {}),
        ("plot_layer_activations", plotting.plot_layer_activations,
         ({"conv": torch.rand(1, 4, 8, 8), "deep": torch.rand(6, 2, 2)},), {"max_maps": 3, "image": imgs[0]}),
        ("plot_filters", plotting.plot_filters, ({"init": torch.randn(8, 1, 5, 5), "trained": torch.randn(8, 3, 5, 5)},), {}),
        ("plot_image_rows", plotting.plot_image_rows, ({"query": torch.rand(1, 1, 4, 4), "nn": torch.rand(3, 1, 4, 4)},),
         {"captions": {"nn": ["a", "b", "c"]}}),
        ("plot_embedding", plotting.plot_embedding, (np.random.rand(10, 2), np.arange(10) % 2), {"title": "emb"}),
        ("plot_embedding_panels", plotting.plot_embedding_panels,
         ({"good": torch.rand(10, 2), "bad": np.random.rand(10, 2)}, torch.arange(10) % 2),
         {"class_names": ["a", "b"], "scores": {"good": "k-NN 1.00"}}),
        ("plot_heatmaps", plotting.plot_heatmaps, (imgs, {"a": torch.rand(2, 8, 8), "b": torch.rand(2, 1, 8, 8)}),
         {"boxes": torch.tensor([[1, 1, 4, 4], [2, 2, 6, 6]]), "row_labels": ["x", "y"]}),
        ("plot_deletion_curves", plotting.plot_deletion_curves, ({"m": curve},), {}),
        ("plot_layer_stack", plotting.plot_layer_stack, (diagrams.layer_stack(lenet, (1, 8, 8)),), {}),
        ("plot_model_graph", plotting.plot_model_graph, (diagrams.model_graph(lenet, (1, 8, 8)),), {}),
        ("plot_tradeoffs", plotting.plot_tradeoffs, (["a", "b"], [1e3, 1e5], [0.5, 0.9], [1.0, 3.0]), {}),
        ("plot_explorer", plotting.plot_explorer, (rf_explorer.measure_stack(rf_explorer.ExplorerSettings(depth=2)),), {}),
        ("plot_field_map", plotting.plot_field_map, (rf_explorer.stacked_field_map(2),), {}),
        ("plot_field_pyramid", plotting.plot_field_pyramid, (rf_explorer.field_pyramid(2),), {}),
        ("plot_stack_pattern", plotting.plot_stack_pattern, (rf_explorer.stack_pattern_tokens(1, 2, 1),), {}),
        ("plot_waveform", plotting.plot_waveform, (wave, p.sample_rate), {}),
        ("plot_spectrogram", plotting.plot_spectrogram, (features.stft_db(wave), p.sample_rate), {"hop_length": 64}),
        ("plot_log_mel", plotting.plot_log_mel, (features.log_mel(wave, p), p), {}),
        ("plot_logmel_pipeline", plotting.plot_logmel_pipeline, (audio_diagrams.pipeline_stages(p),), {}),
        ("plot_cache_layout", plotting.plot_cache_layout, ((10, 4, 40, 63),), {}),
    ]


EXAMPLES = _examples()


def test_every_public_plot_is_exercised_and_named_plot_():
    public = {n for n in plotting.__all__ if callable(getattr(plotting, n)) and n not in ("subplots", "figure", "format_shape")}
    assert all(n.startswith("plot_") for n in public), sorted(public)
    assert public == {name for name, *_ in EXAMPLES}


@pytest.mark.parametrize("name,fn,args,kwargs", EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_plot_returns_a_detached_titled_figure(name, fn, args, kwargs):
    before = plt.get_fignums()
    fig = fn(*args, **kwargs)
    assert isinstance(fig, Figure), f"{name} returned {type(fig).__name__}"
    assert plt.get_fignums() == before, f"{name} left a pyplot figure open (a notebook would show it twice)"
    assert _title(fig), f"{name} drew no title"
    assert fig.axes


@pytest.mark.parametrize("name,fn,args,kwargs", EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_plot_draws_into_the_given_axes_or_figure(name, fn, args, kwargs):
    params = inspect.signature(fn).parameters
    assert ("ax" in params) != ("fig" in params), f"{name} must take exactly one of ax= (one panel) or fig= (panels)"
    if "ax" in params:
        fig, axes = plotting.subplots(1, 2)
        assert fn(*args, ax=axes[1], **kwargs) is fig
        assert axes[1].has_data() or axes[1].patches or axes[1].texts or axes[1].images
        assert not (axes[0].has_data() or axes[0].patches or axes[0].texts)
    else:
        fig = plotting.figure(figsize=(8, 4))
        assert fn(*args, fig=fig, **kwargs) is fig
        n = len(fig.axes)
        assert fn(*args, fig=fig, **kwargs) is fig and len(fig.axes) == n, f"{name} adds to a reused figure"
        outer = plotting.figure(figsize=(8, 4))
        sub = outer.subfigures(1, 2)[1]
        assert fn(*args, fig=sub, **kwargs) is sub and outer.axes
    with pytest.raises(TypeError, match="ax must be|fig must be"):
        fn(*args, **{("ax" if "ax" in params else "fig"): "not a canvas"}, **kwargs)


def test_the_package_imports_only_the_core_of_dlcourse():
    """plotting sits below the topic modules (they import it, e.g. rf_explorer's live explorer); it may use the
    ground layer's _core and lang (its default labels go through tr())."""
    for path in sorted(PLOTS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level > 0:
                target = "." * node.level + (node.module or "")
                inside = node.level == 1  # another module of plotting
                assert inside or target in (".._core", "..lang"), \
                    f"{path.name} imports {target}: plotting may import only dlcourse._core and dlcourse.lang (tr)"
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                assert not any(n.startswith("dlcourse") for n in names), f"{path.name} imports {names}"


def test_errors_say_what_was_expected():
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        plotting.plot_image_grid(torch.rand(2, 4, 8, 8))
    with pytest.raises(ValueError, match="labels"):
        plotting.plot_embedding(np.random.rand(10, 2), np.arange(9))
    with pytest.raises(ValueError, match="upsample"):
        plotting.plot_heatmaps(torch.rand(2, 1, 8, 8), {"a": torch.rand(2, 4, 4)})
    with pytest.raises(ValueError, match="empty"):
        plotting.plot_heatmaps(torch.rand(2, 1, 8, 8), {})
    with pytest.raises(ValueError, match="unsqueeze"):
        plotting.plot_heatmaps(torch.rand(1, 8, 8), {"a": torch.rand(1, 8, 8)})
    with pytest.raises(ValueError, match="boxes"):
        plotting.plot_heatmaps(torch.rand(2, 1, 8, 8), {"a": torch.rand(2, 8, 8)}, boxes=torch.zeros(3, 4))
    with pytest.raises(ValueError, match="NaN"):
        plotting.plot_heatmaps(torch.rand(1, 1, 8, 8), {"a": torch.full((1, 8, 8), float("nan"))})
    with pytest.raises(ValueError, match="one image"):
        plotting.plot_layer_activations({"a": torch.rand(2, 3, 4, 4)})
    with pytest.raises(TypeError, match="DeletionCurve"):
        plotting.plot_deletion_curves({"a": [1, 2]})
    with pytest.raises(ValueError, match="weight must be"):
        plotting.plot_filters({"a": torch.rand(3, 3)})
    with pytest.raises(TypeError, match="StackBox"):
        plotting.plot_layer_stack([("input", "Input")])
    with pytest.raises(TypeError, match="layer_stack"):
        plotting.plot_layer_stack("lenet")
    with pytest.raises(ValueError, match="orientation"):
        plotting.plot_layer_stack([], orientation="diagonal")
    with pytest.raises(TypeError, match="ModelGraph"):
        plotting.plot_model_graph(lambda x: x)
    with pytest.raises(TypeError, match="FeatureParams"):
        plotting.plot_log_mel(torch.zeros(40, 63), {"hop_length": 128})
    with pytest.raises(ValueError, match=r"\(n_mels, frames\)"):
        plotting.plot_log_mel(torch.zeros(2, 3, 4, 5), features.FeatureParams())
    with pytest.raises(ValueError, match="stft_db"):
        plotting.plot_spectrogram(torch.zeros(10), 8000)
    with pytest.raises(ValueError, match="stack_pattern_tokens"):
        plotting.plot_stack_pattern([("CONV", "stage 1")])
    with pytest.raises(ValueError, match="metrics"):
        plotting.plot_history({"loss": [1.0]})


def test_heatmaps_show_each_map_scaled_and_its_maximum():
    imgs = torch.rand(1, 1, 8, 8)
    m = torch.zeros(1, 8, 8)
    m[0, 2, 5] = 7.0
    fig = plotting.plot_heatmaps(imgs, {"a": m}, boxes=torch.tensor([[4, 1, 7, 4]]))
    overlay = fig.axes[1]
    assert overlay.images[-1].get_array().max() == pytest.approx(1.0)  # scaled to [0, 1] for display
    (line,) = overlay.lines
    assert (line.get_xdata()[0], line.get_ydata()[0]) == (5, 2)  # the cross is on the maximum (x, y)
    assert [ax.get_title() for ax in fig.axes] == ["input", "a"]


def test_filters_accept_one_weight_and_write_the_roughness_given():
    w = {"noise": torch.randn(6, 1, 5, 5)}
    fig = plotting.plot_filters(w, roughness=viz.mean_roughness(w), ncols=3)
    sub_titles = [sf._suptitle.get_text() for sf in fig.subfigs]
    assert sub_titles == [f"noise\nroughness {viz.mean_roughness(w)['noise']:.2f} (noise = 1)"]
    one = plotting.plot_filters(torch.randn(4, 3, 5, 5), title="RGB")
    assert one._suptitle.get_text() == "RGB" and len(one.axes) == 4


def test_layer_stack_draws_every_box_it_is_given():
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 6, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2))
    boxes = diagrams.layer_stack(model, (1, 32, 32))
    for orientation in ("horizontal", "vertical"):
        fig = plotting.plot_layer_stack(boxes, orientation=orientation)
        texts = [t.get_text() for t in fig.axes[0].texts]
        for b in boxes:
            assert b.label in texts and plotting.format_shape(b.output_shape) in texts
        assert fig.axes[0].get_title() == "layer stack for input 1×32×32"


def test_image_grid_vrange_and_labels():
    imgs = torch.stack([torch.full((1, 4, 4), 0.5), torch.zeros(1, 4, 4)])
    fig = plotting.plot_image_grid(imgs, ["a", "b"], normalize=False, vrange=(0, 1))
    assert [ax.images[0].get_clim() for ax in fig.axes if ax.images] == [(0, 1)] * 2
    assert [ax.get_title() for ax in fig.axes] == ["a", "b"]
    with pytest.raises(TypeError, match="normalize"):
        plotting.plot_image_grid(imgs, normalize="yes")
