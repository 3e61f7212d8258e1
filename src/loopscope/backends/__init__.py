"""Scalable engines for the round-trip scan: DuckDB (embedded, out of core) and Apache Spark.

The search is written once as SQL (``sql.py``, DuckDB's dialect) and transpiled for Spark with sqlglot.
"""
