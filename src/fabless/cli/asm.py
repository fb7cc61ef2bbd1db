"""`fabless asm` commands (being built)."""
