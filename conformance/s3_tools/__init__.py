"""S3 tools conformance suite (a package so its modules never shadow other suites' ``conftest``)."""
