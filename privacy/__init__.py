"""The privacy layer: pseudonymisation, actors and their credentials, the purpose register and
the policy decision point. Services call it; it never calls services."""
