"""`radar status`: each process's health, its lags and the stored format versions, for an
operator."""
