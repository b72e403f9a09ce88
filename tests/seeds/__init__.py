"""The seed loader (seeds/) and the shipped seed data, loaded and read through the API."""
