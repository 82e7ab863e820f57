"""Analytics: targeting models, imputation, field experiments, poll weighting (issue 13)."""
