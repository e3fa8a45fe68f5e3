"""What is monitored: indicators.yaml and kostra.yaml as validated models, with their release calendars."""
