"""Residents' ideas for the city or the app, read by operators without who sent them."""
