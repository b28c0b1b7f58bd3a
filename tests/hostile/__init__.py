"""Hostile-server and careless-caller tests: one module per area, one test per rule."""
