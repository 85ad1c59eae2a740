"""Names that cross rooms: one definition each, standard library only.

The Pulumi components import this package; it is copied whole into every function's deployment
package (at its root, beside the `functions` package), so a handler imports it by the same path,
`longjobs_contract`.
Nothing here may import pulumi, boto3 or project code.
"""

# Every module of the package, in the order they are written into a function's package. A test
# checks this against the folder, so a new module cannot be left out of a deployment.
MODULES = (
    "__init__.py",
    "alarms.py",
    "callers.py",
    "capacity.py",
    "clock.py",
    "control_plane.py",
    "environment.py",
    "errors.py",
    "iam_escalation.py",
    "jobs.py",
    "lifecycle.py",
    "loader_variables.py",
    "run_event.py",
    "runs.py",
    "settings.py",
    "start_failures.py",
    "tags.py",
    "trigger_config.py",
)
