"""Which city unit (and which CRM connector) handles a category: data, not code."""
