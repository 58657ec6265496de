"""The Open311 GeoReport v2 server: existing Open311 apps and tools file and follow reports."""
