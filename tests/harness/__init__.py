"""The test harness itself: tests/conftest.py and tests/support/."""
