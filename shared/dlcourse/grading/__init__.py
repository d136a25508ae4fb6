"""Course grading tooling around nbgrader, behind one CLI: ``python -m dlcourse.grading``.

Modules (import the one you need; importing the package itself is cheap):

* :mod:`.nbg` - thin wrappers over nbgrader (release into a folder, trusted autograde, scores);
* :mod:`.fixtures` - mistake fixtures (plausible wrong implementations that must lose points);
* :mod:`.release` - release with leak checks, and the published student tree;
* :mod:`.collect` - exchange submissions and uploaded notebooks -> ``submitted/<student>/<assignment>/``;
* :mod:`.autograde` - grade a class: one sandboxed job per student (:mod:`.worker`), gradebook, CSV;
* :mod:`.canonical` - rebuild the graded notebook from the course source and the student's answers;
* :mod:`.sandbox`, :mod:`.launch`, :mod:`.kernel_boot`, :mod:`.executor` - the bubblewrap sandbox,
  its limits, the guarded kernel and the grader-side execution protocol;
* :mod:`.feedback`, :mod:`.regrade` - sanitized feedback pages; :mod:`.gradebook` - nbgrader gradebook, export.
"""
__all__ = ["nbg", "fixtures", "release", "collect", "autograde", "canonical", "sandbox", "launch", "kernel_boot",
           "executor", "worker", "feedback", "regrade", "gradebook"]
