"""The command line on top of every layer: the Typer app (``commands``), how reports are printed
(``output``), and the commands that compose several layers (``demo``, ``checks``).
"""
