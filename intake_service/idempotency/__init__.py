"""Idempotency keys: a retried request gets the first answer and creates nothing new."""
