"""Attack-style tests: what a hostile or unlucky integration tries, kept as a permanent catalogue."""
