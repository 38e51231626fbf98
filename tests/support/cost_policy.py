"""The README's example of a cost condition, for the tests that route and explain by it: a client that asks for
low cost (X-Route-Cost: low) and whose prompt would cost more than $0.05 on gpt-4.1 goes to gpt-4.1-mini."""

COST_POLICY = """\
start: costly
nodes:
  costly:
    ask: Low cost asked, and a prompt over $0.05 on gpt-4.1?
    when: {cost: low, estimated_usd: {on: gpt-4.1, over: 0.05}}
    yes: {models: [gpt-4.1-mini]}
    no: {models: [gpt-4.1]}
"""
COSTLY_TEXT = "the quarterly report covers revenue and churn. " * 4500  # ~40k tokens: ~$0.08 on gpt-4.1
