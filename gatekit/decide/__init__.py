"""Pure decisions: bounds, intervals, the evaluator, the budget, the rollback form check and the verdict. No I/O."""
