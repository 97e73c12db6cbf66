"""Internals of the fake Apikley server; the public face is :mod:`sora2_characters.testing`.

One job per module: ``state`` (records and the lazily derived task lifecycle), ``faults`` (the
programmable fault plan), ``schema`` (request validation against the bundled spec), ``videos``
(is a source video acceptable), ``app`` (the Starlette application), ``callbacks`` (the delivery
scheduler) and ``server`` (uvicorn in a background thread, with real connection drops).
"""
