"""SLA clocks: when a lead's wait counts, and by when it must be answered."""
