"""The notebook asks for another kernel (a made-up one that would run outside any sandbox).

It is graded with the course's sandboxed Python kernel anyway; the correct add earns its 3 points.
"""
ASSIGNMENT = "g1_basics"
EDITS = {"ex1_add": "def add(a, b):\n    return a + b\n"}
EXPECT = {"status": "ok", "score": 3, "notes": ["asks for kernel 'unsandboxed-bash'"]}


def make(nb, ctx):
    nb["metadata"]["kernelspec"] = {"name": "unsandboxed-bash", "display_name": "Bash", "language": "bash",
                                    "argv": ["/bin/bash", "-c", "cat @SOURCE_NB@"]}
    return nb
