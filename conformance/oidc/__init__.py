"""conformance/oidc is a package so its conftest never shadows another suite's `conftest`."""
