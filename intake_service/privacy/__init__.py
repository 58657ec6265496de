"""A resident's personal data: exporting it, erasing it, and retention."""
