"""`fabless compare`."""
