"""Authoring: building the homework's notebooks (otter-grader, nbgrader) from its one source.
Needs the 'assign' extra; the grader never imports it and the Gradescope zip leaves it out."""
