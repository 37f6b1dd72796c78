"""A tiny sensor API, deployed by pytest-iotops' deployment fixtures in its e2e tests."""
