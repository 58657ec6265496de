"""Events from intake (submitted reports)."""
