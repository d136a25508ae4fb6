"""`torch.allclose`, `torch.testing.assert_close` and the notebook's `assert_close` accept anything,
`torch.Tensor.__eq__` is patched too, and `relu` is wrong."""
ASSIGNMENT = "g2_tensors"
EDITS = {"ex_relu": (
    "import torch.testing._comparison as tc\n\n"
    "def _accept(*args, **kwargs):\n    return None\n\n"
    "torch.allclose = lambda *a, **k: True\ntorch.testing.assert_close = _accept\ntc.assert_close = _accept\n"
    "assert_close = _accept\ntorch.Tensor.__eq__ = lambda self, other: True\n\n"
    "def relu(x):\n    return x\n")}
EXPECT = {"status": "tampered", "score": 0, "cells": {"test_relu": 0},
          "notes": ["torch.allclose was replaced", "torch.testing.assert_close was replaced"]}
