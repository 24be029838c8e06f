"""What devstack, the tests, the benchmarks and ``scripts/`` share to stand in for AWS and the providers.

- :mod:`~devstack.support.lambda_context`: the context object Lambda passes a handler;
- :mod:`~devstack.support.events`: API Gateway (HTTP API 2.0) and SQS events as Lambda delivers them;
- :mod:`~devstack.support.signing`: webhook signatures as Stripe and Typeform compute them;
- :mod:`~devstack.support.moto`: moto's server in a process of its own;
- :mod:`~devstack.support.snapstart`: ``snapshot_restore_py`` and the order in which Lambda runs its hooks.

Everything but ``moto`` imports only the standard library: ``devstack.worker`` loads the context
before a handler's cold start, which must not see devstack's imports.
"""
