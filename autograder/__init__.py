"""rnngrade's judge: loads submissions statically, runs them in a sandboxed worker, checks and
scores the tensors that come back. It never imports student code."""
__version__ = "0.1.0"
