"""dlcourse.diagrams (measured) and dlcourse.plotting (drawn): the drawn boxes and graphs are what the model
computes, and models are left as found."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Circle, FancyBboxPatch  # noqa: E402
from torch import nn  # noqa: E402

from dlcourse import arch, diagrams, plotting, zoo  # noqa: E402


def lenet() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    )


class Residual(nn.Module):
    """A basic residual block written for the test (dlcourse must not ship one: assignment 2 asks for it)."""

    def __init__(self, c: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + x)


class Dense(nn.Module):
    def __init__(self, c: int, k: int, n: int):
        super().__init__()
        self.layers = nn.ModuleList(nn.Sequential(nn.BatchNorm2d(c + i * k), nn.ReLU(), nn.Conv2d(c + i * k, k, 3, padding=1))
                                    for i in range(n))

    def forward(self, x):
        feats = [x]
        for layer in self.layers:
            feats.append(layer(torch.cat(feats, 1)))
        return torch.cat(feats, 1)


class Inception(nn.Module):
    def __init__(self, c: int):
        super().__init__()
        self.b1 = nn.Conv2d(c, 8, 1)
        self.b2 = nn.Sequential(nn.Conv2d(c, 4, 1), nn.ReLU(), nn.Conv2d(4, 12, 3, padding=1))
        self.b3 = nn.Sequential(nn.Conv2d(c, 2, 1), nn.ReLU(), nn.Conv2d(2, 6, 5, padding=2))
        self.b4 = nn.Sequential(nn.MaxPool2d(3, 1, 1), nn.Conv2d(c, 5, 1))

    def forward(self, x):
        return torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], dim=1)


class DataDependent(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 3)

    def forward(self, x):
        if x.sum() > 0:  # not traceable by torch.fx
            return self.conv(x)
        return x


def test_stack_shapes_equal_a_forward_pass_layer_by_layer():
    torch.manual_seed(0)
    model = lenet()
    boxes = diagrams.layer_stack(model, (1, 32, 32))
    assert [b.kind for b in boxes[:1]] == ["input"] and boxes[0].output_shape == (1, 32, 32)
    x = torch.randn(1, 1, 32, 32)
    expected = []
    with torch.no_grad():
        for layer in model:
            x = layer(x)
            expected.append(tuple(x.shape[1:]))
    assert [b.output_shape for b in boxes[1:]] == expected
    assert [b.label for b in boxes[1:4]] == ["Conv 5×5, 6 ch", "ReLU", "MaxPool 2×2"]
    assert boxes[-1].label == "FC 10" and boxes[-1].kind == "dense"
    assert sum(b.params for b in boxes) == sum(p.numel() for p in model.parameters())
    print("layer_stack shapes equal a layer-by-layer forward pass of LeNet")


def test_plot_layer_stack_draws_every_box_label_and_shape():
    model = lenet()
    boxes = diagrams.layer_stack(model, (1, 32, 32))
    fig = plotting.plot_layer_stack(diagrams.layer_stack(model, (1, 32, 32)), title="LeNet-5")
    assert isinstance(fig, Figure)
    assert fig not in [plt.figure(n) for n in plt.get_fignums()], "the figure must be detached from pyplot"
    ax = fig.axes[0]
    assert ax.get_title() == "LeNet-5"
    texts = [t.get_text() for t in ax.texts]
    for b in boxes:
        assert b.label in texts and plotting.format_shape(b.output_shape) in texts
    drawn = [p for p in ax.patches if isinstance(p, FancyBboxPatch)]
    assert len(drawn) == len(boxes)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {"convolution", "pooling", "activation", "fully connected"} <= set(legend)


def test_vertical_and_wrapped_stacks():
    model = lenet()
    n = len(diagrams.layer_stack(model, (1, 32, 32)))
    for kw in ({"orientation": "vertical"}, {"max_per_row": 5}):
        fig = plotting.plot_layer_stack(diagrams.layer_stack(model, (1, 32, 32)), **kw)
        assert len([p for p in fig.axes[0].patches if isinstance(p, FancyBboxPatch)]) == n
    fig, ax = plt.subplots()
    try:
        assert plotting.plot_layer_stack(diagrams.layer_stack(model, (1, 32, 32)), ax=ax) is fig
    finally:
        plt.close(fig)


def test_functional_flatten_is_marked_and_vgg16_on_meta_counts_13_conv_3_fc():
    vgg = zoo.reference_model("vgg16")  # meta device: shapes, no memory
    boxes = diagrams.layer_stack(vgg, (3, 224, 224))
    kinds = [b.kind for b in boxes]
    assert kinds.count("conv") == 13 and kinds.count("dense") == 3
    assert boxes[1].label == "Conv 3×3, 64 ch" and boxes[1].output_shape == (64, 224, 224)
    fc = next(i for i, b in enumerate(boxes) if b.kind == "dense")
    # torchvision's VGG flattens with torch.flatten in forward: the FC's input differs from the box before
    assert boxes[fc].input_shape == (512 * 7 * 7,) and boxes[fc - 1].output_shape == (512, 7, 7)
    fig = plotting.plot_layer_stack(diagrams.layer_stack(vgg, (3, 224, 224)))
    assert "⋯" in [t.get_text() for t in fig.axes[0].texts]


def test_alexnet_labels_show_strides_and_overlapping_pooling():
    boxes = diagrams.layer_stack(zoo.reference_model("alexnet"), (3, 224, 224))
    assert boxes[1].label == "Conv 11×11/4, 64 ch" and boxes[1].output_shape == (64, 55, 55)
    assert boxes[3].label == "MaxPool 3×3/2"
    zf = diagrams.layer_stack(arch.on_meta(zoo.zfnet), (3, 224, 224))
    convs = [b.label for b in zf if b.kind == "conv"]
    assert convs[:3] == ["Conv 7×7/2, 96 ch", "Conv 5×5/2, 256 ch", "Conv 3×3, 384 ch"]


def test_autoencoder_shapes_go_down_and_up():
    ae = nn.Sequential(nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.ReLU(), nn.Conv2d(8, 4, 3, stride=2, padding=1),
                       nn.ReLU(), nn.ConvTranspose2d(4, 8, 2, stride=2), nn.ReLU(), nn.ConvTranspose2d(8, 1, 2, stride=2))
    sizes = [b.output_shape[-1] for b in diagrams.layer_stack(ae, (1, 16, 16))]
    assert sizes == [16, 8, 8, 4, 4, 8, 8, 16]
    assert diagrams.describe_module(ae[4]) == "ConvT 2×2/2, 8 ch"
    plotting.plot_layer_stack(diagrams.layer_stack(ae, (1, 16, 16)))


def test_residual_graph_has_an_add_node_with_the_shortcut():
    block = Residual(4)
    g = diagrams.model_graph(block, (4, 6, 6))
    adds = [n for n in g.nodes if n.kind == "add"]
    assert len(adds) == 1 and adds[0].label == "+"
    assert "x" in adds[0].inputs, "the shortcut (the block's input) must feed the addition"
    assert "cat" not in g.kinds()
    with torch.no_grad():
        out = block.eval()(torch.randn(1, 4, 6, 6))
    assert g.node("output").shape == tuple(out.shape[1:])
    fig = plotting.plot_model_graph(diagrams.model_graph(block, (4, 6, 6)))
    ax = fig.axes[0]
    assert any(isinstance(p, Circle) for p in ax.patches)
    assert "+" in [t.get_text() for t in ax.texts]


def test_dense_graph_concatenates_and_channels_add_up():
    block = Dense(6, 3, 3)
    g = diagrams.model_graph(block, (6, 5, 5))
    cats = [n for n in g.nodes if n.kind == "cat"]
    assert len(cats) == 4 and "add" not in g.kinds()
    last = cats[-1]
    assert last.shape == (6 + 3 * 3, 5, 5)
    assert sum(g.node(i).shape[0] for i in last.inputs) == last.shape[0]
    texts = [t.get_text() for t in plotting.plot_model_graph(diagrams.model_graph(block, (6, 5, 5))).axes[0].texts]
    assert "cat" in texts and "15×5×5" in texts


def test_inception_graph_has_four_branches_into_one_cat():
    g = diagrams.model_graph(Inception(3), (3, 9, 9))
    (cat,) = [n for n in g.nodes if n.kind == "cat"]
    assert len(cat.inputs) == 4 and [g.node(i).shape[0] for i in cat.inputs] == [8, 12, 6, 5]
    assert cat.shape == (31, 9, 9)
    starts = [dst for src, dst in g.edges if src == "x"]
    assert len(starts) == 4
    assert diagrams.describe_module(nn.Conv2d(3, 8, 1)) == "Conv 1×1, 8 ch (pointwise)"
    assert diagrams.describe_module(nn.Conv2d(8, 8, 3, groups=8)) == "Conv 3×3, 8 ch (depthwise)"


def test_models_are_left_as_found():
    model = lenet()
    block = Residual(4)
    block.train()
    block.bn1.eval()  # a mixed state must come back exactly
    flags = [m.training for m in block.modules()]
    stats = {k: v.clone() for k, v in block.state_dict().items()}
    calls = []
    handle = block.conv1.register_forward_hook(lambda *a: calls.append(1))
    try:
        diagrams.model_graph(block, (4, 6, 6))
        plotting.plot_model_graph(diagrams.model_graph(block, (4, 6, 6)))
        plotting.plot_layer_stack(diagrams.layer_stack(block, (4, 6, 6)))
    finally:
        handle.remove()
    assert [m.training for m in block.modules()] == flags
    for k, v in block.state_dict().items():
        torch.testing.assert_close(v, stats[k], msg=f"{k} changed: the diagram must not update batch-norm statistics")
    assert all(not m._forward_hooks for m in block.modules())
    model.train()
    diagrams.layer_stack(model, (1, 32, 32))
    assert model.training and all(not m._forward_hooks for m in model.modules())


def test_hooks_removed_when_the_model_fails():
    model = lenet()
    with pytest.raises(ValueError, match="cannot run on an input of shape"):
        diagrams.layer_stack(model, (1, 8, 8))
    assert all(not m._forward_hooks for m in model.modules())
    with pytest.raises(ValueError, match="cannot run"):
        diagrams.model_graph(Residual(4), (3, 6, 6))


@pytest.mark.parametrize("bad", [(0, 32, 32), (1, -2), (), (1.5, 32, 32), (True, 3, 3)])
def test_bad_shapes(bad):
    with pytest.raises(ValueError, match="input_shape"):
        diagrams.layer_stack(lenet(), bad)
    with pytest.raises(ValueError, match="input_shape"):
        diagrams.model_graph(Residual(4), bad)


def test_bad_arguments():
    with pytest.raises(TypeError, match="nn.Module"):
        diagrams.layer_stack("lenet", (1, 32, 32))
    with pytest.raises(TypeError, match="nn.Module"):
        diagrams.model_graph(lambda x: x, (1, 32, 32))
    with pytest.raises(TypeError, match="input_shape"):
        diagrams.layer_stack(lenet(), "1x32x32")
    with pytest.raises(ValueError, match="orientation"):
        plotting.plot_layer_stack(diagrams.layer_stack(lenet(), (1, 32, 32)), orientation="diagonal")
    with pytest.raises(ValueError, match="max_per_row"):
        plotting.plot_layer_stack(diagrams.layer_stack(lenet(), (1, 32, 32)), max_per_row=0)
    with pytest.raises(ValueError, match="cannot be traced"):
        diagrams.model_graph(DataDependent(), (1, 5, 5))


def test_leaf_modules_draw_a_block_as_one_box_or_node():
    from torchvision.models.googlenet import Inception as TVInception

    googlenet = zoo.reference_model("googlenet")
    boxes = diagrams.layer_stack(googlenet, (3, 224, 224), leaf_modules=(TVInception,))
    blocks = [b for b in boxes if b.kind == "block"]
    assert [b.label for b in blocks][:2] == ["inception3a", "inception3b"] and len(blocks) == 9
    assert blocks[0].output_shape == (256, 28, 28) and blocks[-1].output_shape == (1024, 7, 7)
    assert not any(b.name.startswith("inception3a.") for b in boxes), "layers inside a block must not get boxes"

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(3, 4, 3, padding=1)
            self.layer1 = nn.Sequential(Residual(4), Residual(4))
            self.fc = nn.Linear(4, 10)

        def forward(self, x):
            return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(self.layer1(self.stem(x)), 1), 1))

    g = diagrams.model_graph(Net(), (3, 6, 6), leaf_modules=[Residual])
    assert g.kinds() == ["input", "conv", "block", "block", "pool", "other", "dense", "output"]
    assert g.nodes[2].label == "Residual (layer1.0)" and g.nodes[2].shape == (4, 6, 6)
    assert "add" in diagrams.model_graph(Net(), (3, 6, 6)).kinds()
    with pytest.raises(TypeError, match="leaf_modules"):
        diagrams.layer_stack(Net(), (3, 6, 6), leaf_modules=("Residual",))


def test_method_calls_and_products_are_drawn_as_operations():
    class Gate(nn.Module):
        """Squeeze-and-excitation style: a product, and additions written as methods and operators."""

        def __init__(self, c: int):
            super().__init__()
            self.fc = nn.Conv2d(c, c, 1)

        def forward(self, x):
            w = torch.sigmoid(self.fc(nn.functional.adaptive_avg_pool2d(x, 1)))
            y = x * w
            return y.add(x).relu() + 1.0

    g = diagrams.model_graph(Gate(3), (3, 4, 4))
    kinds = g.kinds()
    assert kinds.count("mul") == 1 and kinds.count("add") == 2 and "activation" in kinds
    (mul,) = [n for n in g.nodes if n.kind == "mul"]
    assert mul.label == "×" and {g.node(i).shape for i in mul.inputs} == {(3, 4, 4), (3, 1, 1)}
    fig = plotting.plot_model_graph(diagrams.model_graph(Gate(3), (3, 4, 4)))
    assert sum(isinstance(p, Circle) for p in fig.axes[0].patches) == 3
