"""Fabless: design an AI inference chip and prove it before tape-out."""

__version__ = "0.1.0"
