"""Theo (/api/v1), whole: its surface and middleware, routes, domain, request bodies,
endpoint catalogue, fixture entries and its controls on the admin surface."""
