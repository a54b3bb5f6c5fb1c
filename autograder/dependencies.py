"""Which of the student's definitions use which, from the source text (the judge's static
view): a failure explained by an earlier part the student got wrong says "fix Part N first"."""
from __future__ import annotations

from .forbidden import MODULE, references


def uses(source: str, local: frozenset[str] = frozenset()) -> dict[str, set[str]]:
    """Each top-level definition -> the student's definitions it uses, transitively (their
    ``rnn_bptt`` calling their ``rnn_forward``; a classifier building their ``LSTM``)."""
    try:
        direct, refs = references(source, local)
    except SyntaxError:
        return {}
    out = {}
    for owner in direct:
        if owner.startswith(MODULE):
            continue
        seen, stack = set(), [owner]
        while stack:
            for r in refs.get(stack.pop(), set()) - seen - {owner}:
                seen.add(r)
                stack.append(r)
        out[owner] = seen
    return out
