"""The ``rnngrade`` command: the engine, the homework and the authoring tools wired together."""
