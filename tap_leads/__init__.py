"""tap-leads: a Singer tap for the leads of five AI calling and CRM platforms."""

from tap_leads.sdk_import import defer_package_inits

# Before anything imports the SDK: its package __init__ files import what a run never uses.
defer_package_inits()
