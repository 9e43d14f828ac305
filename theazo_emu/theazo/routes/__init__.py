"""The Theazo API, one module per resource family; lazy.py lists them and loads each on first use."""
