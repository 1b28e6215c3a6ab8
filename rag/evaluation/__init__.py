"""Evaluation of Sanad: metrics (pure functions), datasets (seeds Q&A, XQuAD) and the ``sanad eval`` runner.

Example:
    >>> from rag.evaluation.metrics import recall_at_k
    >>> recall_at_k(["a", "b", "a"], ["a", "c"], 3)
    0.5
"""
