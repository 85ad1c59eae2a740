"""The program run offline, and what the tests and benchmarks make of it.

`program` runs the real Pulumi program under mocks that answer like AWS (`ProgramRun`); `moto`
creates in moto (or any AWS-shaped endpoint) the task definitions and the runs table exactly as
the program declares them.
"""
