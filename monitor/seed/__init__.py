"""The handlingsprogram as printed: parsing its text into the baseline CSV files and loading them into the store."""
