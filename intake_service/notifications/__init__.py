"""Residents' notifications about their reports."""
