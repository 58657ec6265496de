"""Surveys operators publish and residents answer once, anonymously in the results."""
