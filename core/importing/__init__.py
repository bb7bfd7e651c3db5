"""CSV import of customers, interactions and transactions from spreadsheets."""
