"""Hand-written async resources: the source of truth for the generated sync facade."""
