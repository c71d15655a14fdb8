"""tlsclose harness: cases, stacks, the matrix, cell execution and results."""
