"""Deliveries to the CRMs: the attempt log, the circuit breakers, dead letters and replay."""
