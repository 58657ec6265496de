"""Intake service: residents' reports, accounts and notifications, and the public APIs."""
