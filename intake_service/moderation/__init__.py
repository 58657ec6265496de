"""Moderation: operators hide and restore a report's description or photos, residents flag
abuse, and operators work through the flags."""
