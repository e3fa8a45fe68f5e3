"""What people read: the read models behind the web pages and the JSON API, and the exports."""
