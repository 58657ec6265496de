"""`make bench`: the figures of issue-level bars (B1–B7) measured on the real processes.

Each figure runs the services as they run in production (`python -m <service> api`, one
uvicorn process each) on fresh databases, loads them with wrk, and compares them where a bar
says so with a minimal baseline served the same way (`bench.baseline`). `python -m bench`
prints one table and writes it as JSON under `bench/results/`.
"""
