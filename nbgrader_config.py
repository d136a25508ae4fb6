"""nbgrader configuration of the course (run nbgrader from the repository root)."""
c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)

# solutions/<assignment>/*.ipynb is the instructor source; assignments/<assignment>/ is the
# generated student release that is committed and checked in sync by the tests.
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignments"
c.CourseDirectory.root = "."
# Notebooks are committed without outputs; the release must not carry any either.
c.ClearOutput.enabled = True
# Course notebooks train small models: allow more than nbgrader's default 30 s per cell.
c.ExecutePreprocessor.timeout = 300
