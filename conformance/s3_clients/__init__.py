"""S3 client conformance suite (a package so its modules never shadow other suites' ``conftest``)."""
