"""One plan per call: the settings table, the argument policy, structured output."""
