"""Residents' answers to "was it really fixed?" after their report is closed, and reopening."""
