"""Counting attempts per account or client in the database, so limits hold across replicas."""
