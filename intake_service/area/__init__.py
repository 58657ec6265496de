"""The city's service area: reports must lie inside it."""
