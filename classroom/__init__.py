"""Grading a whole class: the TA's side of rnngrade.

``layouts`` finds the submissions in the folders TAs have (flat, nbgrader, Gradescope and Canvas
exports), ``gradebook`` keeps every grading in SQLite, ``pool`` grades them in parallel (local
processes or a Dask cluster), ``exports`` writes what an LMS or nbgrader takes. It uses the engine
(``autograder``) and is given the homework's grading function by the application; it imports no
homework.
"""
