"""The lifecycle under a deterministic simulation of AWS, and the one model of ECS it drives.

`ecs` is ECS's documented rules on a clock (the functions' tests, the simulation and the local
runtime all use it); `dynamodb` the runs table's; the rest runs the real handlers as concurrent
invocations on one virtual clock and checks the lifecycle's invariants at every step.
"""
