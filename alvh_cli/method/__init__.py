"""The ALVH method: rules, stress, hedge sizing, adjustments, check, signals, review."""
