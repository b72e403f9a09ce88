"""What the tests share besides fixtures (those are in tests/conftest.py): row builders,
scenarios, request bodies, and servers and databases of a test's own. Test modules import
from here, never from one another."""
