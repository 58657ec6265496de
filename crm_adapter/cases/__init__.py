"""One CRM case per report: opening it, pushing it to the CRM, applying the CRM's changes."""
