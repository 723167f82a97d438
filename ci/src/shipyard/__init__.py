"""Pipeline-as-code for the scientific data platform."""
