"""Residents' photos: checking and re-encoding uploads, and where the results are kept."""
