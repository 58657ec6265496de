"""Development tools: the CRM simulator and the launcher behind `make run`."""
