"""Dagster definitions, one module per concern; ``orchestration.definitions`` assembles them."""
