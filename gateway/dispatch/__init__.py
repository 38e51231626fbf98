"""Getting one answer from Azure: which deployment, in what order, how often, and what each try cost."""
