"""A city CRM stand-in: a real HTTP server with its own vocabulary and signed webhooks."""
