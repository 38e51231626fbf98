"""What requests cost in USD: a model's prices (prices.py, read from the model table), the cost of Azure's
reported usage and the estimate before a request is sent (cost.py)."""
