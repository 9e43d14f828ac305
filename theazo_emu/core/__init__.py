"""The kernel both products stand on: HTTP (routes, the request context, paging), errors,
JSON, the store and its schema, the virtual clock, ids, timers, streams, the journal,
faults, crypto and signing, outbound delivery, rate limits and the route table."""
