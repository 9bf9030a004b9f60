"""lakeFS REST API conformance suite (a package so its modules never shadow other suites' ``conftest``)."""
