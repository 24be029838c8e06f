"""Clients and adapters for the four marketing vendors.

Import the module you need (``webhook_bridge.vendors.loops``...); this package imports
nothing on purpose so a delivery function only pays for its own vendor at cold start.
"""
