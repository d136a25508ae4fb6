"""A loop that ignores SIGINT (an interrupt cannot stop it): the grader kills the whole sandbox."""
ASSIGNMENT = "g1_basics"
EDITS = {"ex1_add": ("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                     "def add(a, b):\n    return a + b\n\nwhile True:\n    try:\n        pass\n    except BaseException:\n        pass\n")}
EXPECT = {"status": "timeout", "score": 0}
