"""Money the bill says: reconcile it against usage, allocate the unattributed rest, charge teams back,
track budgets and export FOCUS. Amounts go through `tokenomics.money` (shared with pricing and readers)."""
