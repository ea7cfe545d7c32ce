"""What tests share that is not a fixture of a service: builders, harnesses, inspections."""
