"""Status changes coming back from the CRM adapter, applied to reports and told to residents."""
