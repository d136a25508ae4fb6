"""dlcourse.arch.find_shortcuts: residual additions and dense concatenations, found by running the model."""
from __future__ import annotations

import warnings

import pytest
import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from dlcourse import arch


def test_torchvision_resnets_have_one_addition_per_block():
    found = arch.find_shortcuts(torchvision.models.resnet18(weights=None), (3, 32, 32))
    assert [s.kind for s in found] == ["add"] * 8
    # identity blocks skip both 3x3 convs; the three projection blocks skip one more conv than the 1x1 path
    assert sorted(s.skipped for s in found) == [1, 1, 1, 2, 2, 2, 2, 2]
    assert found[0].output_shape == (1, 64, 8, 8)
    found = arch.find_shortcuts(torchvision.models.mobilenet_v2(weights=None), (3, 32, 32))
    assert [s.kind for s in found] == ["add"] * 10 and {s.skipped for s in found} == {3}


def test_torchvision_densenet_concatenates_and_plain_nets_do_not():
    net = torchvision.models.DenseNet(growth_rate=4, block_config=(2, 3), num_init_features=8, bn_size=2)
    found = arch.find_shortcuts(net, (3, 32, 32))
    assert found and {s.kind for s in found} == {"cat"}
    # each dense layer concatenates its inputs (from the 2nd layer on) and each block its outputs
    assert len(found) == (2 - 1) + 1 + (3 - 1) + 1
    assert arch.find_shortcuts(torchvision.models.vgg11(weights=None), (3, 32, 32)) == []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        googlenet = torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=False)
    # Inception concatenates parallel branches: none of them is computed from another
    assert arch.find_shortcuts(googlenet, (3, 64, 64)) == []


class _Functional(nn.Module):
    """A residual unit written with torch.add, one with +=, then merges that are not shortcuts."""

    def __init__(self):
        super().__init__()
        self.a, self.b, self.c = nn.Conv2d(4, 4, 3, padding=1), nn.Conv2d(4, 4, 3, padding=1), nn.Conv2d(4, 4, 1)

    def forward(self, x):
        x = torch.add(x, self.b(F.relu(self.a(x))))   # shortcut over 2 convs
        y = self.c(x)
        y += x                                         # in place, over 1 conv
        z = y + y                                      # a tensor added to itself: not a shortcut
        z = self.a(z) + self.b(z)                      # parallel branches of equal depth: not a shortcut
        w = torch.cat([self.a(z), self.b(z)], dim=1)   # parallel branches concatenated: not a shortcut
        d = torch.cat([z, self.a(z)], 1)               # dense: z and a layer computed from z
        return w.sum() + d.sum() + (z + 1.0).sum()     # adding a number or 0-d tensors: not a shortcut


def test_functional_code_and_what_is_not_a_shortcut():
    m = _Functional()
    m.train()
    found = arch.find_shortcuts(m, (4, 5, 5))
    assert [(s.kind, s.skipped) for s in found] == [("add", 2), ("add", 1), ("cat", 1)]
    assert found[2].output_shape == (1, 8, 5, 5)
    assert m.training and all(s.training for s in m.modules()), "train/eval flags must be restored"


def test_bad_arguments():
    with pytest.raises(TypeError, match="nn.Module"):
        arch.find_shortcuts(lambda x: x, (1, 8, 8))
    for bad in [(), (1, 0, 8), (1, 8.0, 8), "1x8x8", 8, (True, 8, 8)]:
        with pytest.raises(ValueError, match="input_shape"):
            arch.find_shortcuts(nn.Conv2d(1, 2, 3), bad)
    with pytest.raises(ValueError, match="cannot run"):
        arch.find_shortcuts(nn.Conv2d(3, 2, 3), (1, 8, 8))
