"""What operators watch: intake's `GET /metrics`."""
