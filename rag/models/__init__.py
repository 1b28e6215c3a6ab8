"""Model loading and conversion helpers for Sanad (embedding and language models)."""
