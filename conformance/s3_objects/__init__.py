"""S3 object-operations conformance suite for lakegate (see conftest.py)."""
