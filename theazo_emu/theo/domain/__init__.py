"""Theo's operations (the /api/v1 surface), shared by its endpoints (theo/), its middleware
(theo/surface.py and theo/middleware.py) and the admin surface: keys and scopes, the engine catalogue and price
table, the mock engine, the completion pipeline, the ledger and credits, conversations, the
audit log, events for webhooks, Idempotency-Key records and the per-key rate limits.
Each module owns its tables; endpoints reach them only through these functions. A function
works for one tenant through its handle (core/tenant.Tenant, passed first as `t`); only what is
cross-tenant by nature (the timer sources, the key lookup) holds the running instance
(core/host.Host), and calls the rest with `emu.tenant(row["tenant"])`.
"""
