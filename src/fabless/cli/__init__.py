"""The `fabless` command line: thin wiring over the layers' public APIs."""
