"""Domain types, pricing and valuation: pure functions of the market and the legs."""
