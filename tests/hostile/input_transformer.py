"""Input transformers (post and cleanup) drop every line that mentions `assert`."""
ASSIGNMENT = "g1_basics"
EDITS = {"ex1_add": ("def _strip(lines):\n    return [l for l in lines if 'assert' not in l]\n\n"
                     "ip = get_ipython()\nip.input_transformers_post.append(_strip)\n"
                     "ip.input_transformers_cleanup.append(_strip)\n"
                     "ip.input_transformer_manager.cleanup_transforms.append(_strip)\n\n"
                     "def add(a, b):\n    return 0\n")}
EXPECT = {"status": "tampered", "score": 0, "cells": {"test_add_visible": 0, "test_add_hidden": 0},
          "notes": ["input_transformers"]}
