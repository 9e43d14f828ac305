"""Operations shared by the API families: sessions, agents and their runs, definitions, providers,
secrets, schedules, actions, orchestration, the ledger, limits and prices, and the engines that
run on the clock (workflow/, fleets, teams, tasks, the scheduler).

Endpoint modules (routes/, admin/) call these; nothing here imports an endpoint module, so a
route can change freely while a function here is shared API with its callers in plain sight.
Request bodies (bodies/) may import from here (constants, validators, the agent config of
agent_config.py); nothing here imports a body, not even for a type: a function takes plain
values or the domain's own types.
"""
