"""snowgen: compile declarative YAML event-data models into warehouse-specific SQL."""

__version__ = "0.1.0"
