"""`fabless rtl` commands (being built)."""
