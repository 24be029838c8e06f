"""Docker-free local stack for `make dev`: ``from devstack.stack import Stack``.

This package's ``__init__`` imports nothing: ``devstack.worker`` (the Lambda-like child
process) is in it and must stay free of boto3, moto and Werkzeug before the handler's own
cold start.
"""
