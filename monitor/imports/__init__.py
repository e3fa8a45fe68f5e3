"""Numbers that people bring: import files read, checked and stored whole, and the templates to fill."""
