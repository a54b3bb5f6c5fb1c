"""Grading a whole class: the TA's side of rnngrade.

``layouts`` finds the submissions in the folders TAs have (flat, nbgrader, Gradescope and Canvas
exports), ``gradebook`` keeps every grading in SQLite, ``pool`` grades them in parallel (local
judge processes or a Dask cluster), ``exports`` writes what an LMS takes, ``nbgrader_sync`` what
nbgrader's gradebook takes; ``report``, ``feedback`` and ``similarity`` (with ``pages``, what they
share) write the HTML pages from the gradebook alone. It uses the engine (``autograder``) and is
given the homework's grading function by the application; it imports no homework.
"""
