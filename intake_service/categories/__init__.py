"""Report categories and the city units responsible for them (data, not code)."""
