"""Abnormal-activity detections over the DuckDB audit table (see catalogue.py)."""
