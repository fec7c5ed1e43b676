"""Executing compiled plans on a DB-API connection."""
