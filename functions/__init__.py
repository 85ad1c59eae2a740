"""The stack's Lambda functions, one package: each function's deployment package holds this
package's paths, so a handler is imported in Lambda by the name it has here."""
