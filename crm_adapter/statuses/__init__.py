"""CRM status codes mapped onto our statuses (a table operators edit), and the changes held
because nobody mapped their code yet."""
