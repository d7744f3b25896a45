"""The SQL engine dbt builds the warehouse on (PATHWAYS_ENGINE: duckdb or spark), and how everything
else reads what it built: ``reader.open_reader(settings)`` for the marts and raw data,
``lake.sync(settings)`` for the raw uploads as Parquet that Spark reads."""
