"""Operator keys kept in intake's database, the command line that makes them, the audit log."""
