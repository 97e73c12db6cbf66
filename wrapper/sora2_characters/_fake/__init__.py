"""Internals of the fake Apikley server; the public face is :mod:`sora2_characters.testing`.

One job per module: ``state`` (records, the lazily derived task lifecycle, and the one lock, which
no other module takes), ``faults`` (the programmable fault plan), ``routes`` (where each operation
answers), ``schema`` (request validation against the bundled spec), ``videos`` (is a source video
acceptable), ``app`` (the Starlette application), ``callbacks`` (the delivery scheduler),
``server`` (uvicorn in a background thread, with real connection drops), ``serving`` (the serve
loop both command lines share) and ``errors`` (why a server could not start).
"""
