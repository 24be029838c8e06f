"""`make bench`: the issue's figures, each next to a baseline measured in the same run.

``python -m benchmarks`` runs every benchmark in its own fresh interpreter (so one cannot
warm or pollute another), prints one table and writes ``docs/benchmarks.md``.
``python -m benchmarks --only receiver_warm,cold_start`` runs a subset. ``--smoke`` runs every
job at once at its smallest sizes (``size()`` in ``common.py``; tests/benchmarks does): it proves
that ``make bench`` works, and its figures mean nothing. ``--doc PATH`` writes the report elsewhere.

Modules, one per benchmark:

- ``receiver_warm``: warm Stripe and Typeform receivers against moto in-process vs a bare
  boto3 replay of the very same AWS calls;
- ``cold_start``: fresh interpreter → first answer against a moto server, vs a bare
  baseline; import-time offenders; peak memory of each function's process;
- ``delivery``: a batch of 10 to a vendor answering in 100 ms vs one call, and a burst of
  300 Loops actions through two delivery instances against the sandbox's 10 req/s limit;
- ``end_to_end``: webhook accepted → vendor called, through ``devstack.stack.Stack`` (`make dev`);
- ``cost``: list-price estimate per million webhooks from the figures above.

``child.py`` is the Lambda-like program the subprocess benchmarks start; it imports only
the standard library before the handler, like the Lambda runtime.
"""
