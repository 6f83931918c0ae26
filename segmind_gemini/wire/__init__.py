"""The Gemini wire format: answer and request parts, and the shapes answers are checked against."""
