"""The Theo API's endpoints (/api/v1), one module per family, each ending in `routes`.

Declared on the Theo surface (theo/surface.py) through registry.THEO. Nothing outside this
package imports it: what other code needs lives in theo/domain/ (operations and their
tables) or theo/surface.py (the wire).
"""
