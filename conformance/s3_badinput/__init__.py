"""S3 malformed-request conformance suite for lakegate (see conftest.py)."""
