"""`fabless trace` commands (being built)."""
