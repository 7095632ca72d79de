"""floorsync: keeps an ERP and the shop floor of a plant in sync."""

__version__ = "0.1.0"
