"""Status webhooks from the CRM."""
