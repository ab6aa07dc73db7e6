"""The weekly pipeline pulse, the compliance report and their renderings."""
