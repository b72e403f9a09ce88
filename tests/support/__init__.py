"""What the tests share besides fixtures (those are in tests/conftest.py): row builders,
scenarios, request bodies, servers and databases of a test's own, and the plugin that keeps the
`process` marker honest. Test modules import from here, never from one another."""
