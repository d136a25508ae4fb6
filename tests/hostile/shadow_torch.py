"""Ships a `torch.py` that would stand in for PyTorch: it is ignored; the real torch is used."""
ASSIGNMENT = "g2_tensors"
EXTRA_FILES = {"torch.py": "def allclose(*a, **k):\n    return True\n\nclass testing:\n    @staticmethod\n"
                           "    def assert_close(*a, **k):\n        return None\n\nTensor = object\n"
                           "def tensor(x):\n    return x\n"}
EDITS = {"ex_relu": "def relu(x):\n    return x\n"}
EXPECT = {"status": "ok", "score": 0, "notes": ["torch.py"]}
