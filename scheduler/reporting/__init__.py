"""The performance report (activity 12): metrics in SQL, the service, CSV and HTML output."""
