"""GitHub's OIDC provider and the two roles longjobs' workflows assume: a program of its own."""
