"""Homework content, one package each: its parts, hidden suites, usual mistakes and hints. A
homework imports the engine (``autograder``) and ``reference``; the engine never imports it."""
