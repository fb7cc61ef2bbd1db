"""`fabless cost` commands (being built)."""
