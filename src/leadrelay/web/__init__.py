"""The web app: server-rendered pages over the workflow, for marketing and sales."""
