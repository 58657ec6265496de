"""Resident accounts, passwords and access tokens."""
