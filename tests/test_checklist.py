"""Unit tests of dlcourse.checklist (the §III-E design checklist). Oracles: PyTorch layers run on
tensors; no analytic formula is trusted here."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from dlcourse import checklist


def _vgg_like() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Flatten(), nn.Linear(16 * 8 * 8, 10))


def _bad() -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(1, 8, 7, stride=2), nn.ReLU(), nn.MaxPool2d(3, 3), nn.Conv2d(8, 8, 5), nn.ReLU(),
                         nn.AvgPool2d(4), nn.Flatten())


class TestChecklist:
    def test_good_network_passes_every_rule(self):
        findings = checklist.check_design(_vgg_like(), (1, 32, 32))
        assert [f.rule for f in findings] == list(checklist.RULES)
        assert all(f.status == "ok" for f in findings), checklist.format_findings(findings)

    def test_bad_network_breaks_the_rules_it_breaks(self):
        findings = checklist.check_design(_bad(), (1, 63, 63))
        s = checklist.worst_statuses(findings)
        assert s == {"input-even": "warn", "small-kernels": "warn", "stride-1": "warn", "same-padding": "warn",
                     "pool-2x2": "warn"}
        by_layer = {(f.rule, f.layer): f for f in findings}
        assert ("small-kernels", "0") in by_layer and ("stride-1", "0") in by_layer
        assert by_layer[("pool-2x2", "2")].status == "note"  # 3/3 max-pool: allowed with care
        assert by_layer[("pool-2x2", "5")].status == "warn"  # 4x4 window
        assert "padding=2" in by_layer[("same-padding", "3")].message
        # the 3/3 pool gets 29x29: 29 = 3*9 + 2, its last two rows are never read
        assert "29x29" in by_layer[("input-even", "2")].message

    @pytest.mark.parametrize("size,dropped", [(32, False), (30, True), (28, True), (31, True)])
    def test_floor_detection_matches_pytorch(self, size, dropped):
        """Three 2/2 pools: a side that is not divisible by 8 drops pixels somewhere."""
        model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.MaxPool2d(2, 2), nn.MaxPool2d(2, 2), nn.MaxPool2d(2, 2))
        findings = checklist.check_design(model, (1, size, size))
        layer_warnings = [f for f in findings if f.rule == "input-even" and f.layer]
        assert bool(layer_warnings) == dropped
        # oracle: a pool drops pixels exactly when its input side is odd
        x, odd = torch.zeros(1, 1, size, size), []
        for i, layer in enumerate(model):
            if isinstance(layer, nn.MaxPool2d) and x.shape[-1] % 2:
                odd.append(str(i))
            x = layer(x)
        assert sorted(f.layer for f in layer_warnings) == odd

    def test_floored_strided_conv_is_found(self):
        # 3x3, stride 2, no padding on 8 pixels: windows start at 0, 2, 4 -> pixel 7 unused
        findings = checklist.check_design(nn.Sequential(nn.Conv2d(1, 1, 3, stride=2)), (1, 8, 8))
        assert any(f.rule == "input-even" and f.layer == "0" for f in findings)
        findings = checklist.check_design(nn.Sequential(nn.Conv2d(1, 1, 3, stride=2)), (1, 9, 9))
        assert not any(f.rule == "input-even" and f.layer == "0" for f in findings)

    def test_model_state_and_hooks_restored(self):
        model = _vgg_like().train()
        checklist.check_design(model, (1, 32, 32))
        assert model.training and all(m.training for m in model.modules())
        assert all(not m._forward_hooks for m in model.modules())

    def test_mixed_flags_and_hooks_restored_when_the_model_fails(self):
        model = _vgg_like().train()
        model[0].eval()
        flags = [m.training for m in model.modules()]
        with pytest.raises(ValueError, match="cannot run"):
            checklist.check_design(model, (1, 28, 28))  # the Linear expects 16*8*8 features
        assert [m.training for m in model.modules()] == flags
        assert all(not m._forward_hooks for m in model.modules())

    def test_bad_input(self):
        with pytest.raises(TypeError):
            checklist.check_design("vgg", (1, 32, 32))
        with pytest.raises(ValueError, match=r"\(C, H, W\)"):
            checklist.check_design(_vgg_like(), (32, 32))
        with pytest.raises(ValueError, match="positive ints"):
            checklist.check_design(_vgg_like(), (1, 32, 0))
        with pytest.raises(ValueError, match="cannot run"):
            checklist.check_design(_vgg_like(), (1, 28, 28))  # Linear expects 16*8*8 features
        with pytest.raises(ValueError, match="unknown rule"):
            checklist.Finding("big-kernels", "ok", "", "")
        with pytest.raises(ValueError, match="status"):
            checklist.Finding("stride-1", "bad", "", "")

    def test_format_and_table(self):
        good, bad = checklist.check_design(_vgg_like(), (1, 32, 32)), checklist.check_design(_bad(), (1, 63, 63))
        text = checklist.format_findings(bad)
        assert text.count("[WARN]") == sum(f.status == "warn" for f in bad)
        table = checklist.findings_table({"vgg": good, "bad": bad})
        rows = {ln.split()[0]: ln.split()[1:] for ln in table.splitlines()[2:]}
        assert rows["stride-1"] == ["ok", "warn"]
        with pytest.raises(TypeError):
            checklist.format_findings(["not a finding"])
