"""Sending e-mail: over SMTP in production, into a folder of `.eml` files by default."""
