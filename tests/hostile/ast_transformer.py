"""An AST transformer registered with IPython deletes every `assert` before it runs."""
ASSIGNMENT = "g1_basics"
EDITS = {"ex1_add": ("import ast\n\nclass NoAsserts(ast.NodeTransformer):\n    def visit_Assert(self, node):\n"
                     "        return ast.Pass()\n\nget_ipython().ast_transformers.append(NoAsserts())\n\n"
                     "def add(a, b):\n    return 0\n")}
EXPECT = {"status": "tampered", "score": 0, "cells": {"test_add_visible": 0, "test_add_hidden": 0},
          "notes": ["ast_transformers"]}
