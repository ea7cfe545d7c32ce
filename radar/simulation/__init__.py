"""The yardstick's synthetic world (issue 23): a seeded generative process of households,
incidents and the parties that see them, from a versioned parameter file; and the measures of
what the radar made of it. Pure Python: the services drive it through the real pipeline."""
