"""rnngrade's grading engine: loads submissions statically, runs them in a sandboxed worker,
checks and scores the tensors that come back. It never imports student code, and it knows no
homework: a ``spec.Homework`` is handed to it (``homework/``)."""
__version__ = "0.1.0"

import sys as _sys

# jsonschema (under nbformat) imports rfc3987_syntax where it is installed (the 'assign' extra
# brings it), which compiles a grammar at import: 1.2 CPU-s per judge process, only to check
# "iri" string formats that neither a notebook's schema nor Gradescope's uses. A None entry makes
# that optional import fail, as if the package were absent.
_sys.modules.setdefault("rfc3987_syntax", None)
