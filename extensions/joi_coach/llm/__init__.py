"""LLM backends behind one small streaming interface."""
