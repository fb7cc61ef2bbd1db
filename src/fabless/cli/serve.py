"""`fabless serve` commands (being built)."""
