"""What operators watch: the case list, per-unit SLA figures and the `/metrics` endpoint."""
