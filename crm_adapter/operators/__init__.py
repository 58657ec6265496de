"""Operator keys of the adapter and the audit log of operators' changes."""
