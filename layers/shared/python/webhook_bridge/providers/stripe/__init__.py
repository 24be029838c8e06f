"""Stripe webhook events → vendor-neutral actions (``mapper.map_stripe_event``), and the
ordering versions both sides share (``ordering``).

Deliberately empty: the delivery function needs only ``ordering``, and importing a package
runs its ``__init__``, so importing the mapping here would load every Stripe model into every
delivery cold start (docs/benchmarks.md). ``receiver/providers.py`` names the mapper, imported on first use.
"""
