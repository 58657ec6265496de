"""CRM adapter: routes reports to city units, keeps one CRM case per report, brings statuses back."""
