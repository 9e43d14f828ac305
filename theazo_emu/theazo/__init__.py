"""Theazo (/v1), whole: its surface, routes, domain, request bodies and endpoint catalogue,
with the mock run engine and the workflow engine that only Theazo uses."""
