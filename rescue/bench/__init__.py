"""The repair bench: one job on many drives at once (``rescue bench``).

``runner`` starts one worker process per drive and collects the results as
they end, ``jobs`` is what a worker runs (the engine's flash, doctor, scan),
``summary`` writes the session's JSON and HTML page. The command-line face is
``rescue.ops.bench``.
"""
