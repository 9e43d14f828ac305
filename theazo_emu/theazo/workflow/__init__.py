"""The workflow engine: step execution, the expression language, estimates and approvals."""
