"""Operations shared by the API families: sessions, agents and their runs, definitions, providers,
secrets, schedules, actions, orchestration, the ledger, limits and prices.

Endpoint modules (resources/, admin/) call these; nothing here imports an endpoint module, so a
route can change freely while a function here is shared API with its callers in plain sight.
"""
