from tap_leads.tap import TapLeads

TapLeads.cli()
