"""The alarm forwarder: passes the stack's alarms on to the notifications topic."""
