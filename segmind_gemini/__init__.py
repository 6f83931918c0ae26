"""Segmind Gemini core."""
