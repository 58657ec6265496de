"""Residents' reports: filing them and the public view of them."""
