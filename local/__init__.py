"""The local runtime: a stack's whole lifecycle on one machine with Docker.

A local AWS for the stack (moto's server), the real trigger and supervisor handlers behind a local
endpoint that speaks Lambda's Invoke API, and a local ECS that runs each task as a Docker
container, driven by the project's one model of ECS (simulation/ecs.py)."""
