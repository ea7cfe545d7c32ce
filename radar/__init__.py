"""The radar's domain, event-sourced: households and the signals seen about them (household),
the risk score with its explanation (risk, risk_model, risk_models/), the region responsible for
a household (regions, municipalities.csv), what Veilig Thuis does about it: alerts and safety
conditions (case, alerts, safety), the model versions in force (model_history), and the pure
logic of the projections built from them. No HTTP, Kafka or SQL in here."""
