"""What the numbers mean: each indicator's state and target status on a given day, and KOSTRA's ranking among peers."""
