"""`fabless run` commands (being built)."""
