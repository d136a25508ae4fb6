"""The course itself: notebook conventions, the student release, the build, mistake fixtures.

Modules (import the one you need; importing the package itself is cheap):

* :mod:`.conventions` - notebook conventions: Colab badge, setup cell, stamp/check/strip,
  the course root and its lectures and assignments, "check yourself" questions;
* :mod:`.regions` - the one parser of nbgrader's cell regions (solution, hidden tests);
* :mod:`.nbgrader_api` - the nbgrader wrapper (release into a folder, trusted unsandboxed
  autograde, scores), through nbgrader's own API;
* :mod:`.release` - the only release path (``solutions/`` -> ``assignments/``), with its leak check,
  and the published student tree;
* :mod:`.fixtures` - mistake fixtures (plausible wrong implementations that must lose points);
* :mod:`.build` - notebook execution, assignment round trips and the offline course build.

Command line: ``python -m dlcourse.course release|check-release|demo|run|roundtrip|stamp|check|strip``.
This package never imports :mod:`dlcourse.grading` (grading sits on top of it).
"""
__all__ = ["conventions", "regions", "nbgrader_api", "release", "fixtures", "build"]
