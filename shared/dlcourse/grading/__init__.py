"""Course grading tooling around nbgrader, behind one CLI: ``python -m dlcourse.grading``.

Modules (import the one you need; importing the package itself is cheap). The release, the
nbgrader wrapper and the mistake fixtures live in :mod:`dlcourse.course`, which this package
imports (never the reverse):

* :mod:`.collect` - exchange submissions and uploaded notebooks -> ``submitted/<student>/<assignment>/``;
* :mod:`.autograde` - grade a class: one sandboxed job per student (:mod:`.worker`), gradebook, CSV;
* :mod:`.rebuild` - rebuild the graded notebook from the course source and the student's answers;
* :mod:`.sandbox`, :mod:`.launch`, :mod:`.kernel_guard`, :mod:`.executor` - the bubblewrap sandbox,
  its limits, the guarded kernel and the grader-side execution protocol;
* :mod:`.feedback`, :mod:`.rerender_feedback` - sanitized feedback pages; :mod:`.gradebook` - nbgrader gradebook, export.
"""
__all__ = ["collect", "autograde", "rebuild", "sandbox", "launch", "kernel_guard",
           "executor", "worker", "feedback", "rerender_feedback", "gradebook"]
