"""What both services use: event contracts, outbox/inbox, webhook signing, DB base, errors."""
