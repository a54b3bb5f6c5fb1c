"""rnngrade's grading engine: loads submissions statically, runs them in a sandboxed worker,
checks and scores the tensors that come back. It never imports student code, and it knows no
homework: a ``spec.Homework`` is handed to it (``homework/``)."""
__version__ = "0.1.0"
