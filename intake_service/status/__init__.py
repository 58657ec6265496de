"""Status changes coming back from the CRM adapter, and what residents read about them."""
