"""The Theo API's endpoints (/api/v1), one module per family, each ending in `routes`.

Declared on the Theo surface (surfaces/theo.py) through registry.THEO. Like resources/ for
Theazo, nothing outside this package imports it: what other code needs lives in
domain/theo/ (operations and their tables) or surfaces/theo.py (the wire).
"""
