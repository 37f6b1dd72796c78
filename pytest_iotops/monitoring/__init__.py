"""Monitoring signals in the canary's verdict: metric providers (Prometheus, a web endpoint, a command) read each
version's own metrics over a step, and the analysis judges them with the same tests as the router's
measurements — exact counts where the signal is a counter, values and limits where it is a gauge."""
