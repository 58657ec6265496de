"""Resident accounts: registration and e-mail verification, sign-in with rotating tokens,
password reset, and the resident's own settings."""
