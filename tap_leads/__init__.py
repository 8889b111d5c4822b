"""tap-leads: a Singer tap for the leads of five AI calling and CRM platforms."""
