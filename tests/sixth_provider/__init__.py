"""Orbit, a sixth provider that ships with no part of the tap: its spec (spec.py), its
stream's schema (orbit_leads.json) and its emulator provider (emulator_api.py), and the tap
that reads it beside the five (tap.py)."""
