"""Benchmark code behind the ``bench_*`` management commands: data builders and measuring code that
are too long for a command module, kept out of the app's own modules (nothing here runs in a
request or a task)."""
