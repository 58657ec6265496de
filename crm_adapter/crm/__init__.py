"""Talking to city CRMs: one interface, a connector per CRM protocol."""
