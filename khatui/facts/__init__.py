"""What a node looks like now: one probe script per node, parsed by pure functions.

Desired state (the spec) and observed state (`NodeFacts`) never share a type. Gathering is one SSH
round trip per node: a script prints marked sections, and each section has its own parser, tested
against recorded output without any node.
"""
