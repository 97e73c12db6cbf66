"""Typed client for the Apikley sora-2-characters API: a 1-4 s video in, a reusable character_id out."""

__version__ = "0.1.0"
