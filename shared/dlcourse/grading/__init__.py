"""Course grading tooling around nbgrader (release, autograde, fixtures of wrong submissions)."""
__all__ = ["nbg", "fixtures"]
