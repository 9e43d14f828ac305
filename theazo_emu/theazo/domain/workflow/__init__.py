"""The workflow engine: step execution, the expression language, estimates and approvals.

It is Theazo's domain like the fleet, team and schedule engines beside it: it owns the
workflow runs' state and the `approvals` table, makes agents through orchestration, prices
through pricing and announces through events, and domain/workflows.py starts its runs. The
workflow bodies check a step graph with its expression parser and durations; it reads the
stored steps and imports no body.
"""
