"""Tests for rag.generators, one file per module of the package (base, llamacpp, openai_compat, hf_transformers)."""
