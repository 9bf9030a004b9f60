"""Object-store failure suite for lakegate (see conftest.py)."""
